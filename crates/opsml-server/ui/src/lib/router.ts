// Pages by address: `/` the runs table, `/runs/<uid>` a run, `/compare?uid=…` runs side by
// side. Links change the address without reloading; the back button works.

export type Route =
  | { page: "runs" }
  | { page: "run"; uid: string }
  | { page: "compare"; uids: string[] }
  | { page: "missing" };

export function routeOf(path: string, search: string): Route {
  if (path === "/" || path === "") return { page: "runs" };
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (run?.[1]) return { page: "run", uid: decodeURIComponent(run[1]) };
  if (path === "/compare" || path === "/compare/") {
    // Each run once, however often the address names it.
    return { page: "compare", uids: [...new Set(new URLSearchParams(search).getAll("uid"))] };
  }
  return { page: "missing" };
}

const listeners = new Set<() => void>();

/** Goes to `href` (a path of this site) without reloading. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  for (const listener of listeners) listener();
}

/** Calls `listener` after every change of address; returns what stops it. */
export function onNavigate(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

/** A click on a link of this site, handled without reloading (a click with a modifier key
 *  opens a new tab as usual). */
export function followLink(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest("a");
  if (!anchor || anchor.target || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
