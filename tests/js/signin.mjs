// Sign-in by an emailed one-time link in headless Chromium, in two acts (run by the Python test):
//   ask:  on a phone, a visitor without a session opens /my, is sent to the sign-in page, enters
//         her address and sends the form (a real browser's Origin and the page's CSP);
//   open: she opens the link from the email (received over SMTP by the test) and lands on her page.
// Screenshots in Russian, 390 px wide. Prints what it saw as JSON.
// Usage: node signin.mjs ask BASE EMAIL ARTIFACT_DIR | node signin.mjs open LINK ARTIFACT_DIR
import { chromium } from "playwright-core";

const [act, target, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = { violations: [] };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
                locale: "ru-RU", extraHTTPHeaders: { "Accept-Language": "ru" } };

try {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) seen.violations.push(m.text()); });
  if (act === "ask") {
    const [email, artifacts] = rest;
    // Without a session, /my sends the browser to the sign-in page (303), which brings it back there.
    const reached = await page.goto(`${target}/my`);
    const first = reached.request().redirectedFrom();
    seen.refused = first ? (await first.response()).status() : reached.status();
    seen.formPath = new URL(page.url()).pathname;
    seen.next = new URL(page.url()).searchParams.get("next");
    seen.lang = await page.getAttribute("html", "lang");
    seen.label = await page.textContent('label[for="email"]');
    await page.screenshot({ path: `${artifacts}/signin-ru-390.png`, fullPage: true });
    await page.fill("#email", email);
    const [response] = await Promise.all([page.waitForNavigation(), page.click("#send")]);
    seen.answered = response.status();
    seen.sent = await page.textContent("#sent");
    seen.width = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: `${artifacts}/signin-sent-ru-390.png`, fullPage: true });
  } else {
    seen.opened = (await page.goto(target)).status();  // the link's page: one button, the link still unused
    const [response] = await Promise.all([page.waitForNavigation(), page.click("#confirm")]);
    seen.status = response.status();
    seen.landed = new URL(page.url()).pathname;
    seen.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, secure: c.secure }));
    seen.listed = await page.locator(`[data-occurrence="7:finance:2022"]`).count();  // the id, behind the words
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
