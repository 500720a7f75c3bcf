// The one way pages talk to the server: JSON over /api/v1, errors as ApiError with the
// API's {error, problem, fix}, reads retried (with a banner) while the server is unreachable,
// and the write token kept in sessionStorage only.

const TOKEN_KEY = "reelgraph.token";
const MAX_DELAY_MS = 10000;

export class ApiError extends Error {
  constructor(status, body) {
    super(body.problem || `the server answered ${status}`);
    this.status = status;
    this.error = body.error || "Error";
    this.problem = body.problem || this.message;
    this.fix = body.fix || "";
    this.body = body;
  }

  // A 404 for a path this server does not serve at all (an older server, or an endpoint
  // still being built), as opposed to a 404 for an unknown id on a served path.
  get missingRoute() {
    return this.status === 404 && this.problem.startsWith("there is no route");
  }
}

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== null && v !== undefined && v !== "") query.append(key, String(v));
    }
  }
  const qs = query.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ""}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function banner(text) {
  const el = document.getElementById("connection");
  if (!el) return;
  el.textContent = text || "";
  el.hidden = !text;
}

function tokenDialog() {
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" && input.value ? input.value : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function token() {
  let value = sessionStorage.getItem(TOKEN_KEY);
  if (!value) {
    value = await tokenDialog();
    if (!value) {
      throw new ApiError(0, {
        error: "NoToken",
        problem: "this change needs the server's API token and none was given",
        fix: "click the button again and enter the token the server was started with " +
             "(REELGRAPH_API_TOKEN)",
      });
    }
    sessionStorage.setItem(TOKEN_KEY, value);
  }
  return value;
}

async function errorOf(response) {
  try {
    return new ApiError(response.status, await response.json());
  } catch {
    return new ApiError(response.status, {
      error: "HttpError",
      problem: `the server answered ${response.status} ${response.statusText} without a ` +
               "readable body",
      fix: "retry; if it persists, read the server's log",
    });
  }
}

// A read is retried until the server answers (it is safe to repeat); a write is not, since
// it may have reached the server before the connection dropped.
async function send(method, path, { params, body, write = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (write) headers.Authorization = `Bearer ${await token()}`;
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  for (let delay = 1000; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    let response;
    try {
      response = await fetch(url(path, params), init);
    } catch {
      if (method !== "GET") {
        banner("");
        throw new ApiError(0, {
          error: "ConnectionLost",
          problem: "the server could not be reached, so the change was not confirmed",
          fix: "check that `reelgraph serve` is running, reload the page and look before retrying",
        });
      }
      banner(`Lost the connection to the server. Retrying in ${delay / 1000} s…`);
      await sleep(delay);
      continue;
    }
    banner("");
    if (response.ok) {
      const type = response.headers.get("Content-Type") || "";
      return type.includes("json") ? response.json() : response;
    }
    if (write && response.status === 401) forgetToken();
    throw await errorOf(response);
  }
}

export const api = {
  get: (path, params) => send("GET", path, { params }),
  post: (path, body, options = {}) => send("POST", path, { ...options, body }),
};
