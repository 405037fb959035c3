// A reviewer's day in headless Chromium, in two acts (run by the Python test, which reads the email between them):
//   ask:    her session has ended; /review sends the browser to the sign-in page (never a Basic prompt);
//           she enters her address and sends the form.
//   decide: she opens the one-time link from the email, confirms, lands back on the queue, accepts one
//           answer with its own button and the confirmation, reads what happened, ticks several and
//           accepts them at once, reads what happened; then looks at an extended deadline's page and
//           the paper backlog form.
// Screenshots at 390 and 1280 px wide of every page she sees. Prints what it saw as JSON.
// Usage: node review.mjs ask BASE EMAIL LANG WIDTH COOKIE_NAME COOKIE_VALUE ARTIFACTS STATE
//        node review.mjs decide LINK LANG WIDTH ARTIFACTS STATE ONE SEVERAL(comma-separated) EXTENDED
import { chromium } from "playwright-core";

const [act, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = { violations: [], statuses: [], widths: {}, texts: {} };
const other = (width) => (width === 390 ? 1280 : 390);

function options(lang, width, state) {
  const locale = lang === "ru" ? "ru-RU" : "kk-KZ";
  return { viewport: { width, height: width === 390 ? 844 : 900 }, deviceScaleFactor: width === 390 ? 2 : 1, locale,
           extraHTTPHeaders: { "Accept-Language": lang }, ...(state ? { storageState: state } : {}) };
}

async function watch(context) {
  const page = await context.newPage();
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) seen.violations.push(m.text()); });
  page.on("response", (r) => seen.statuses.push(r.status()));
  return page;
}

// The page at its own width and at the other one: full-page screenshots, its width, the words it shows.
async function shot(page, name, lang, width) {
  for (const w of [width, other(width)]) {
    await page.setViewportSize({ width: w, height: w === 390 ? 844 : 900 });
    await page.screenshot({ path: `${artifacts}/review-${name}-${lang}-${w}.png`, fullPage: true });
    await page.screenshot({ path: `${artifacts}/review-${name}-${lang}-${w}-top.png` });  // what the screen shows on arrival
    seen.widths[`${name}-${w}`] = await page.evaluate(() => document.documentElement.scrollWidth);
  }
  await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
  seen.texts[name] = await page.evaluate(() => document.body.innerText);
}

let artifacts;
try {
  if (act === "ask") {
    const [base, email, lang, width, cookieName, cookieValue, dir, state] = rest;
    artifacts = dir;
    const context = await browser.newContext(options(lang, Number(width)));
    await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);  // a session that has ended
    const page = await watch(context);
    const reached = await page.goto(`${base}/review`);
    const first = reached.request().redirectedFrom();
    seen.refused = first ? (await first.response()).status() : reached.status();
    seen.path = new URL(page.url()).pathname;
    seen.next = new URL(page.url()).searchParams.get("next");
    seen.lang = await page.getAttribute("html", "lang");
    await shot(page, "signin", lang, Number(width));
    await page.fill("#email", email);
    await Promise.all([page.waitForNavigation(), page.click("#send")]);
    seen.sent = (await page.textContent("#sent")).trim();
    await context.storageState({ path: state });
  } else {
    const [link, lang, widthText, dir, state, one, several, extended] = rest;
    artifacts = dir;
    const width = Number(widthText);
    const context = await browser.newContext(options(lang, width, state));
    const page = await watch(context);
    await page.goto(link);  // the link's page: one button, the link still unused
    await Promise.all([page.waitForNavigation(), page.click("#confirm")]);
    seen.landed = new URL(page.url()).pathname;
    seen.lang = await page.getAttribute("html", "lang");
    await shot(page, "queue", lang, width);

    // One answer, its own button, then the confirmation.
    const card = (oid) => page.locator(`#new-answers li[data-occurrence="${oid}"]`);
    await Promise.all([page.waitForNavigation(), card(one).locator("button.accept-one").click()]);
    seen.question = (await page.locator("#confirm-accept").innerText()).trim();
    await shot(page, "confirm", lang, width);
    await Promise.all([page.waitForNavigation(), page.click("#confirm-accept-button")]);
    seen.afterOne = (await page.locator("#done").innerText()).trim();
    seen.doneVisible = await page.locator("#done").isVisible();
    await shot(page, "accepted-one", lang, width);

    // Several at once: tick them, one button, the confirmation.
    const picked = several.split(",");
    for (const oid of picked) await card(oid).locator("input[name=pick]").check();
    await Promise.all([page.waitForNavigation(), page.click("#accept-selected")]);
    seen.confirmList = await page.locator("#confirm-accept-list li").allInnerTexts();
    await shot(page, "confirm-several", lang, width);
    await Promise.all([page.waitForNavigation(), page.click("#confirm-accept-button")]);
    seen.afterSeveral = (await page.locator("#done").innerText()).trim();
    seen.left = await page.locator("#new-answers li[data-occurrence]").count();
    await shot(page, "accepted-several", lang, width);

    // An extended deadline's page, the dashboard and back, and the paper backlog form.
    await page.goto(`${new URL(link).origin}/occurrences/${extended}`);
    seen.due = (await page.locator("#due").innerText()).trim();
    await shot(page, "extended", lang, width);
    await Promise.all([page.waitForNavigation(), page.click("#nav-dashboard")]);
    seen.dashboard = new URL(page.url()).pathname;
    await Promise.all([page.waitForNavigation(), page.click("#to-queue")]);
    seen.backToQueue = new URL(page.url()).pathname;
    await Promise.all([page.waitForNavigation(), page.click("#to-paper")]);
    await page.selectOption("#body", "finance");
    await Promise.all([page.waitForNavigation(), page.click("#show-body")]);
    seen.backlog = await page.locator("#owed input[name=occurrence]").count();
    await shot(page, "paper", lang, width);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
