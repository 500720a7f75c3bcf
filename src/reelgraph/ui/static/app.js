// The shell: navigation, the hash router (#/PAGE?params) and error display. Each page is a
// module listed in pages/registry.js, loaded on first use.
import { errorBox, h, href } from "./dom.js";
import { PAGES } from "./pages/registry.js";

const main = document.getElementById("page");
let current = 0;

function buildNav() {
  document.getElementById("nav").replaceChildren(...PAGES.filter((p) => !p.hidden).map(
    (p) => h("li", {}, h("a", { href: href(p.route), "data-route": p.route }, p.title))));
}

function markNav(route) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.route === route) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function parse(hash) {
  const [path, qs] = (hash.replace(/^#\/?/, "") || "search").split("?");
  return { route: path || "search", params: new URLSearchParams(qs || "") };
}

async function show() {
  const mine = ++current;
  const { route, params } = parse(location.hash);
  const page = PAGES.find((p) => p.route === route);
  const view = h("div", { class: "view" });
  // Pages append optional parts as `cond ? part : null`: skip the nulls, as h() does.
  view.append = (...parts) => Element.prototype.append.apply(view,
    parts.flat(Infinity).filter((p) => p !== null && p !== undefined && p !== false));
  main.replaceChildren(view);
  main.dataset.state = "loading";
  markNav(page?.navAs || route);
  try {
    if (!page) {
      throw { problem: `there is no page '${route}'`, fix: "pick a page from the navigation" };
    }
    document.title = `${page.title} · reelgraph`;
    const module = await page.load();
    await module.render(view, params);
  } catch (err) {
    if (mine === current) view.append(errorBox(err));
  }
  if (mine === current) {
    main.dataset.state = "ready";
    window.reelgraphRenderedAt = performance.now();
  }
}

// A failure nobody awaited still becomes a readable message, never a silent console error.
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  main.prepend(errorBox(event.reason));
});
window.addEventListener("hashchange", () => {
  show();
  main.focus({ preventScroll: true });
});
buildNav();
show();
