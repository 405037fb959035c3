// Drives the dashboard in headless Chromium: log in, find an open occurrence, record a submission,
// check the page changed; screenshots on a laptop and a phone. Prints the observations as JSON.
// Usage: node dashboard.mjs BASE_URL USER PASSWORD OCCURRENCE_ID ARTIFACT_DIR
import { chromium } from "playwright-core";

const [base, username, password, occurrence, artifacts] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
try {
  const laptop = await browser.newContext({ httpCredentials: { username, password }, viewport: { width: 1366, height: 900 } });
  const page = await laptop.newPage();
  const refused = [];  // what the Content-Security-Policy blocked, as Chromium reports it
  page.on("console", (message) => { if (/Content Security Policy/i.test(message.text())) refused.push(message.text()); });
  const response = await page.goto(base + "/");
  seen.dashboardStatus = response.status();
  seen.policy = response.headers()["content-security-policy"] || "";
  seen.headerRule = await page.evaluate(() => getComputedStyle(document.querySelector("header")).borderBottomStyle);
  seen.overdueRows = await page.locator("#status tbody tr").count();
  seen.calendarLinks = await page.locator(".month a").count();
  await page.screenshot({ path: `${artifacts}/dashboard-laptop.png`, fullPage: true });

  await page.goto(`${base}/occurrences/${occurrence}`);
  seen.before = (await page.locator("#status").innerText()).trim();
  await page.fill("#note", "Хат № 12-3/45");
  await Promise.all([page.waitForURL(`**/occurrences/${occurrence}`), page.click(`form[action$="/submit"] button`)]);
  seen.after = (await page.locator("#status").innerText()).trim();
  seen.formGone = (await page.locator(`form[action$="/submit"]`).count()) === 0;
  await page.screenshot({ path: `${artifacts}/occurrence-after-submission.png`, fullPage: true });
  seen.policyViolations = refused;

  const phone = await browser.newContext({ httpCredentials: { username, password }, viewport: { width: 390, height: 844 }, isMobile: true });
  const small = await phone.newPage();
  await small.goto(base + "/");
  seen.phoneWidth = await small.evaluate(() => document.documentElement.scrollWidth);
  await small.screenshot({ path: `${artifacts}/dashboard-phone.png`, fullPage: true });

  // Without a credential a browser would prompt; ask the same URL without navigating.
  const stranger = await browser.newContext();
  seen.withoutCredential = (await stranger.request.get(base + "/")).status();
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
