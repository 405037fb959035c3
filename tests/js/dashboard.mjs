// Drives the dashboard in headless Chromium. Prints the observations as JSON.
// Usage: node dashboard.mjs BASE_URL USER PASSWORD OCCURRENCE_ID ARTIFACT_DIR [pages]
// Without `pages`: log in, find an open occurrence, record a submission, check the page changed;
// screenshots on a laptop and a phone. With `pages`: the dashboard, a day's list and an agency's
// page in Kazakh and Russian at 1280 and 390 px (screenshots into ARTIFACT_DIR), axe-core's
// findings, the visible text, sideways overflow, and the touch targets' sizes. The admin's Basic
// credential goes with every request, as a script sends it: the server never prompts for it.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, username, password, occurrence, artifacts, mode] = process.argv.slice(2);
// The admin's credential on every request, as a script sends it (no page prompts for it any more).
const basic = { Authorization: "Basic " + Buffer.from(`${username}:${password}`).toString("base64") };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
const axeSource = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

async function axe(page) {
  // Evaluated over the DevTools protocol, not as a <script> in the page: the page's policy allows none.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}

async function look(page, url, shot) {
  const refused = [];
  page.on("console", (message) => { if (/Content Security Policy/i.test(message.text())) refused.push(message.text()); });
  const response = await page.goto(base + url);
  const found = await page.evaluate(() => {
    const clone = document.body.cloneNode(true);
    // Words in Kazakh on purpose (the switch names Kazakh in Kazakh) and people's names are left out.
    clone.querySelectorAll('[lang="kk"], .person').forEach((node) => node.remove());
    document.body.appendChild(clone);
    clone.style.position = "absolute"; clone.style.left = "-99999px";
    const text = clone.innerText;
    clone.remove();
    const small = [];
    for (const node of document.querySelectorAll("nav a, form a, form button, form select, form input:not([type=hidden]), #calendar a, .pager a, .monthnav a, .years a, summary")) {
      const box = node.getBoundingClientRect();
      if (box.width > 0 && (box.width < 24 || box.height < 24)) small.push(`${node.tagName} ${node.textContent.trim().slice(0, 30)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
    return { lang: document.documentElement.lang, text, width: document.documentElement.scrollWidth, small,
             landmarks: ["header", "main", "nav", "footer"].filter((name) => document.querySelector(name)).length,
             svg: document.querySelectorAll("svg.chart").length };
  });
  await page.screenshot({ path: `${artifacts}/${shot}.png`, fullPage: true });
  return { status: response.status(), ...found, policyViolations: refused, axe: await axe(page) };
}

try {
  if (mode === "pages") {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ extraHTTPHeaders: basic, viewport: { width, height: 900 },
                                                 isMobile: width < 500 });
      for (const lang of ["kk", "ru"]) {
        const page = await context.newPage();
        seen[`home-${lang}-${width}`] = await look(page, `/?lang=${lang}`, `dashboard-${lang}-${width}`);
        seen[`day-${lang}-${width}`] = await look(page, `/?lang=${lang}&day=2022-12-09`, `day-${lang}-${width}`);
        seen[`agency-${lang}-${width}`] = await look(page, `/agencies/finance?lang=${lang}`, `agency-${lang}-${width}`);
        await page.close();
      }
      await context.close();
    }
    // The switch: from Kazakh to Russian by its link, remembered on the next visit.
    const context = await browser.newContext({ extraHTTPHeaders: basic });
    const page = await context.newPage();
    await page.goto(base + "/?lang=kk");
    await Promise.all([page.waitForURL("**lang=ru**"), page.click('nav.langs a[hreflang="ru"]')]);
    await page.goto(base + "/");
    seen.switched = await page.evaluate(() => document.documentElement.lang);
    // A day of the calendar opens that day's list.
    await page.goto(base + "/?lang=en&month=2022-12");
    await Promise.all([page.waitForURL("**day=2022-12-09**"), page.click('#calendar a[href*="day=2022-12-09"]')]);
    seen.dayHeading = await page.locator("#list-heading").innerText();
  } else {
    const laptop = await browser.newContext({ extraHTTPHeaders: basic, viewport: { width: 1366, height: 900 } });
    const page = await laptop.newPage();
    const refused = [];  // what the Content-Security-Policy blocked, as Chromium reports it
    page.on("console", (message) => { if (/Content Security Policy/i.test(message.text())) refused.push(message.text()); });
    const response = await page.goto(base + "/?lang=en");
    seen.dashboardStatus = response.status();
    seen.policy = response.headers()["content-security-policy"] || "";
    seen.headerRule = await page.evaluate(() => getComputedStyle(document.querySelector("header")).borderBottomStyle);
    seen.overdueRows = await page.locator("#late-agencies li").count();
    seen.calendarLinks = await page.locator("#calendar a").count();
    await page.screenshot({ path: `${artifacts}/dashboard-laptop.png`, fullPage: true });

    await page.goto(`${base}/occurrences/${occurrence}`);
    seen.before = (await page.locator("#status").innerText()).trim();
    await page.fill("#note", "Хат № 12-3/45");
    await Promise.all([page.waitForURL(`**/occurrences/${occurrence}`), page.click(`form[action$="/submit"] button`)]);
    seen.after = (await page.locator("#status").innerText()).trim();
    seen.formGone = (await page.locator(`form[action$="/submit"]`).count()) === 0;
    await page.screenshot({ path: `${artifacts}/occurrence-after-submission.png`, fullPage: true });
    seen.policyViolations = refused;

    const phone = await browser.newContext({ extraHTTPHeaders: basic, viewport: { width: 390, height: 844 }, isMobile: true });
    const small = await phone.newPage();
    await small.goto(base + "/");
    seen.phoneWidth = await small.evaluate(() => document.documentElement.scrollWidth);
    await small.screenshot({ path: `${artifacts}/dashboard-phone.png`, fullPage: true });

    // Without a credential or a session a browser is sent to the sign-in page, never prompted.
    const stranger = await browser.newContext();
    const answer = await stranger.request.get(base + "/", { maxRedirects: 0 });
    seen.withoutCredential = answer.status();
    seen.withoutCredentialTo = answer.headers()["location"];
    seen.prompted = "www-authenticate" in answer.headers();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
