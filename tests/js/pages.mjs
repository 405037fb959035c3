// The people's pages in headless Chromium, in Kazakh and Russian, 1280 and 390 px wide: my deadlines,
// an occurrence's page (the focal point's and the reviewer's), the review queue, refusals (the
// dashboard's to a focal point too), sign-in (asked for, and reached from a page without or after a session).
// For each: <html lang>, no sideways scrolling on a phone, no Kazakh letters in the Russian page's
// text (but in words marked with another lang, such as "Қазақша" in the language switch), no agency
// or step code in the text, and axe-core's serious or critical violations. Screenshots in ARTIFACT_DIR.
// Usage: node pages.mjs BASE FOCAL_LINK REVIEWER_LINK OCCURRENCE ARTIFACT_DIR CODES_JSON
import { chromium } from "playwright-core";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [base, focalLink, reviewerLink, occurrence, artifacts, codesJson] = process.argv.slice(2);
const { agencies, steps, names } = JSON.parse(codesJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = [];
const sizes = { 1280: { viewport: { width: 1280, height: 900 } },
                390: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } };
const locales = { kk: "kk-KZ", ru: "ru-RU" };

async function check(page, name, lang, width, status) {
  await page.screenshot({ path: `${artifacts}/${name}-${lang}-${width}.png`, fullPage: true });
  const found = await page.evaluate(({ lang }) => {
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest("style, script")) continue;
      const marked = parent.closest("[lang]");
      if (marked && !marked.getAttribute("lang").startsWith(lang)) continue;  // a word in another language, said so
      texts.push(node.textContent);
    }
    const controls = [...document.querySelectorAll("option:not([lang]), button, input[type=submit]")].map((e) => e.textContent || e.value);
    return { lang: document.documentElement.lang, text: texts.join(" ") + " " + controls.join(" "),
             scrollWidth: document.documentElement.scrollWidth,
             landmarks: ["header", "nav", "main"].filter((tag) => document.querySelector(tag)),
             switch: [...document.querySelectorAll("nav .langs a")].map((a) => a.getAttribute("href")) };
  }, { lang });
  // People's addresses and the files they sent are theirs, not the page's words.
  const text = found.text.replace(/[\w.+-]+@[\w.-]+/g, " ").replace(/\S+\.(pdf|docx|xlsx)\b/gi, " ");
  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () => {
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
                                           target: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const kazakh = lang === "ru" ? [...new Set(text.match(/[\p{L}]*[әғқңөұүһіӘҒҚҢӨҰҮҺІ][\p{L}]*/gu) || [])].filter((w) => !names.includes(w)) : [];
  const codes = agencies.filter((code) => new RegExp(`(^|[^\\w-])${code}([^\\w-]|$)`).test(text));
  const stepCodes = steps.filter((code) => text.includes(code));
  seen.push({ name, lang, width: Number(width), status, htmlLang: found.lang, scrollWidth: found.scrollWidth,
              landmarks: found.landmarks, switch: found.switch, kazakh, codes, stepCodes,
              serious: axe.filter((v) => v.impact === "serious" || v.impact === "critical"),
              minor: axe.filter((v) => v.impact !== "serious" && v.impact !== "critical").map((v) => v.id) });
}

async function visit(context, name, lang, width, path) {
  const page = await context.newPage();
  const response = await page.goto(`${base}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
  const first = response.request().redirectedFrom();  // a page that sent the browser on: its status
  await check(page, name, lang, width, first ? (await first.response()).status() : response.status());
  await page.close();
}

try {
  for (const lang of ["kk", "ru"]) {
    for (const width of ["1280", "390"]) {
      const options = { ...sizes[width], locale: locales[lang], bypassCSP: true };  // to inject axe-core
      const focal = await browser.newContext(options);
      await (await focal.newPage()).goto(focalLink);
      await visit(focal, "my", lang, width, "/my");
      await visit(focal, "occurrence-focal", lang, width, `/occurrences/${occurrence}`);
      await visit(focal, "message-refusal", lang, width, "/review");
      await visit(focal, "dashboard-refusal", lang, width, "/");
      await focal.close();
      const reviewer = await browser.newContext(options);
      await (await reviewer.newPage()).goto(reviewerLink);
      await visit(reviewer, "queue", lang, width, "/review");
      await visit(reviewer, "occurrence-reviewer", lang, width, `/occurrences/${occurrence}`);
      await reviewer.close();
      const stranger = await browser.newContext(options);
      await visit(stranger, "signin", lang, width, "/signin");
      await visit(stranger, "message-sign-in", lang, width, "/my");
      await stranger.close();
      const ended = await browser.newContext(options);  // a session that ended: its cookie names nothing live
      await ended.addCookies([{ name: "scheduler_session", value: "ended-session-0000", url: base }]);
      await visit(ended, "signin-ended", lang, width, "/review");
      await ended.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
