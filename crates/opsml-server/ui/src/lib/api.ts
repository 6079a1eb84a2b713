// Requests to the server's API. The session is an HttpOnly cookie the page never sees; a
// change carries the session's CSRF token in a header, which pages of other sites cannot
// know.

import type { Session } from "./types";

/** An error answer of the API: its status and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = "";

/** Keeps the CSRF token of the session for the changes that follow. */
export function useSession(session: Pick<Session, "csrf_token">): void {
  csrfToken = session.csrf_token;
}

/** The JSON answer of `path` under /api/v1; an error answer throws an ApiError. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  headers.set("accept", "application/json");
  if (method !== "GET" && method !== "HEAD") {
    headers.set("x-csrf-token", csrfToken);
    if (init.body !== undefined) headers.set("content-type", "application/json");
  }
  const response = await fetch(`/api/v1${path}`, {
    ...init,
    method,
    headers,
    credentials: "same-origin",
  });
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(
      response.status,
      body.error?.code ?? "error",
      body.error?.message ?? response.statusText,
    );
  } catch {
    return new ApiError(response.status, "error", response.statusText);
  }
}

/** A query string from `params`, repeating a key for each value of an array. */
export function query(params: Record<string, string | number | string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
