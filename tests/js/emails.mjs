// The emails' HTML in headless Chromium (run by tests/integration/test_email_browser.py): each file
// opened at 390 px (a phone, as Outlook's app shows it) and 1280 px; prints, per file and width,
// how wide the page is (scrollWidth) and saves a full-page screenshot.
// Usage: node emails.mjs ARTIFACT_DIR FILE.html...
import { chromium } from "playwright-core";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";

const [artifacts, ...files] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = [];
try {
  for (const width of [390, 1280]) {
    const phone = width < 600;
    const context = await browser.newContext({ viewport: { width, height: phone ? 844 : 900 }, isMobile: phone,
                                               hasTouch: phone, deviceScaleFactor: phone ? 2 : 1 });
    const page = await context.newPage();
    for (const file of files) {
      await page.goto(pathToFileURL(file).href);
      const name = basename(file, ".html");
      const measured = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        lang: document.documentElement.lang,
        button: (() => { const a = document.querySelector("a[href*='/l/'], a[href*='/s/'], a[href*='/review']");
                         return a ? a.getBoundingClientRect().top : null; })(),
        widest: Math.max(...[...document.body.querySelectorAll("*")].map((e) => e.getBoundingClientRect().right)),
      }));
      await page.screenshot({ path: `${artifacts}/${name}-${width}.png`, fullPage: true });
      seen.push({ name, width, ...measured });
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
