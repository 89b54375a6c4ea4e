// A hash router: `#/datasets/file-1?x=y`. No server-side routes needed, keys never in a URL path.
import { useEffect, useState } from "preact/hooks";

function current() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  return { path, query: new URLSearchParams(search) };
}

export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const update = () => setWhere(current());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return where;
}

export function navigate(path) {
  location.hash = path;
}

export function href(path, params) {
  const search = params ? new URLSearchParams(params).toString() : "";
  return `#${path}${search ? `?${search}` : ""}`;
}

/** `match("/datasets/:id", "/datasets/file-1")` -> `{id: "file-1"}`, or null. */
export function match(pattern, path) {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}
