// What the run page does with an artifact: pictures shown, text shown on demand, anything
// downloaded decrypted, where the UI holds the master key (`opsml ui`).

import { query } from "./api";
import type { ArtifactRecord } from "./types";

/** Pictures larger than this are listed, not shown. */
export const MAX_PICTURE_BYTES = 20 << 20;
/** Texts larger than this are listed, not shown; a shown one is cut at `TEXT_SHOWN_BYTES`. */
export const MAX_TEXT_BYTES = 1 << 20;
export const TEXT_SHOWN_BYTES = 64 << 10;

const PICTURES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"]);
const TEXTS = new Set(["text/plain", "text/csv", "text/markdown", "application/json"]);

export function isPicture(artifact: ArtifactRecord): boolean {
  return PICTURES.has(artifact.media_type) && artifact.size <= MAX_PICTURE_BYTES;
}

export function isText(artifact: ArtifactRecord): boolean {
  return TEXTS.has(artifact.media_type) && artifact.size <= MAX_TEXT_BYTES;
}

/** The address of an artifact's plain bytes, to show or (with `download`) to save. */
export function contentUrl(uid: string, path: string, download = false): string {
  const options = query({ path, download: download ? "true" : undefined });
  return `/api/v1/experiments/${encodeURIComponent(uid)}/artifacts/content${options}`;
}

/** The start of a text to show: at most `TEXT_SHOWN_BYTES` bytes, and whether it was cut. */
export function shownText(bytes: Uint8Array): { text: string; cut: boolean } {
  const cut = bytes.length > TEXT_SHOWN_BYTES;
  // `fatal: false` shows a character cut in two, or bytes that are not UTF-8, as U+FFFD.
  const text = new TextDecoder("utf-8", { fatal: false }).decode(cut ? bytes.subarray(0, TEXT_SHOWN_BYTES) : bytes);
  return { text, cut };
}

/** A row of the artifact tree: a folder with what is under it, or a file. */
export type TreeRow =
  | { kind: "folder"; path: string; name: string; depth: number; size: number; files: number }
  | { kind: "file"; artifact: ArtifactRecord; name: string; depth: number };

/** The artifacts as a tree: each folder once, before what is in it, with the total size and
 *  number of files under it; files by name within their folder. */
export function artifactTree(artifacts: ArtifactRecord[]): TreeRow[] {
  const sorted = [...artifacts].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const folders = new Map<string, { size: number; files: number }>();
  for (const artifact of sorted) {
    const parts = artifact.path.split("/");
    for (let depth = 1; depth < parts.length; depth += 1) {
      const folder = parts.slice(0, depth).join("/");
      const total = folders.get(folder) ?? { size: 0, files: 0 };
      folders.set(folder, { size: total.size + artifact.size, files: total.files + 1 });
    }
  }
  const rows: TreeRow[] = [];
  const shown = new Set<string>();
  for (const artifact of sorted) {
    const parts = artifact.path.split("/");
    for (let depth = 1; depth < parts.length; depth += 1) {
      const folder = parts.slice(0, depth).join("/");
      if (shown.has(folder)) continue;
      shown.add(folder);
      const total = folders.get(folder) ?? { size: 0, files: 0 };
      rows.push({ kind: "folder", path: folder, name: parts[depth - 1] ?? folder, depth: depth - 1, ...total });
    }
    rows.push({ kind: "file", artifact, name: parts.at(-1) ?? artifact.path, depth: parts.length - 1 });
  }
  return rows;
}
