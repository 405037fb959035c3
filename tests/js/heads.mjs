// Each reader's email in headless Chromium (run by tests/integration/test_email_links_browser.py):
// a fresh browser per reader opens the personal link of her email, then every other link the email
// holds, as she would click them, and says for each its status, where it ended and the page's
// language; the read-only view she lands on, and the email itself, are photographed at 390 and
// 1280 px.
// Usage: node heads.mjs READERS.json ARTIFACT_DIR
// READERS.json: [{"name", "personal", "links": [...], "email": "FILE.html"}]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [readersFile, artifacts] = process.argv.slice(2);
const readers = JSON.parse(readFileSync(readersFile, "utf-8"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
try {
  for (const reader of readers) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const visit = async (url) => {
      const response = await page.goto(url, { waitUntil: "domcontentloaded" });
      return {
        url, status: response ? response.status() : null, landed: page.url(),
        lang: await page.evaluate(() => document.documentElement.lang),
        text: await page.evaluate(() => document.body ? document.body.innerText : ""),
      };
    };
    const personal = await visit(reader.personal);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
      await page.screenshot({ path: `${artifacts}/${reader.name}-landing-${width}.png`, fullPage: width < 600 ? false : true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    const links = [];
    for (const link of reader.links) {
      links.push(await visit(link));
    }
    if (reader.view) {  // the read-only view a link opens, photographed too
      await visit(reader.view);
      for (const width of [390, 1280]) {
        await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
        await page.screenshot({ path: `${artifacts}/${reader.name}-view-${width}.png` });
      }
    }
    await context.close();
    const mail = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const mailPage = await mail.newPage();
    const widths = {};
    for (const width of [390, 1280]) {
      await mailPage.setViewportSize({ width, height: width < 600 ? 844 : 900 });
      await mailPage.goto(pathToFileURL(reader.email).href);
      widths[width] = await mailPage.evaluate(() => document.documentElement.scrollWidth);
      await mailPage.screenshot({ path: `${artifacts}/${reader.name}-email-${width}.png`, fullPage: true });
    }
    await mail.close();
    seen[reader.name] = { personal, links, widths };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
