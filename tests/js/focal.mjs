// A focal point's day in headless Chromium, from a real email to her answer: the email's HTML is
// opened as her mail client shows it, and every tap is a click that is counted. Per width (390 px
// phone, 1280 px laptop): tap the email's button → her page, the email's deadlines first (their
// order, where the first sits on the screen, the earlier overdue folded, no raw code on screen) →
// tap "Answer" on one deadline → its page with the letter's number field focused; type → tap
// "Send". An item link of the email opened in a browser with no session lands on that deadline.
// Screenshots in ARTIFACT_DIR. Prints what it saw as JSON.
// Usage: node focal.mjs BASE LANG EMAIL_HTML_FILE ITEM_LINK ARTIFACT_DIR ID_TO_ANSWER_390 ID_TO_ANSWER_1280
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const [base, lang, emailFile, itemLink, artifacts, answer390, answer1280] = process.argv.slice(2);
const emailHtml = readFileSync(emailFile, "utf-8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// Her browser speaks English: her page follows her own language (the contacts file's) before it.
const sizes = { 390: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "en-US" },
                1280: { viewport: { width: 1280, height: 900 }, locale: "en-US" } };
const RAW = [/\b[\w.-]+:[a-z][a-z-]*:\d{4}(-[QH]\d|-\d\d-\d\d)?\b/g, /\bres-\d[\d.]*/g, /\b\d{4}-[QH]\d\b/g];
const seen = { widths: {} };

async function visibleText(page) {
  return await page.evaluate(() => document.body.innerText);
}

function rawCodes(text) {
  const plain = text.replace(/[\w.+-]+@[\w.-]+/g, " ");
  return RAW.flatMap((pattern) => plain.match(pattern) || []);
}

try {
  for (const width of ["390", "1280"]) {
    const context = await browser.newContext(sizes[width]);
    const page = await context.newPage();
    const got = { taps: 0 };
    // The email as her mail client shows it: its button is a link to the site.
    await page.setContent(emailHtml);
    got.emailWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    const button = page.locator('a[href*="/l/"][href*="?items="]').first();
    got.emailButton = await button.getAttribute("href");
    // tap 1: the email's button
    await Promise.all([page.waitForURL("**/my?items=*"), button.click()]);
    got.taps += 1;
    got.landed = new URL(page.url()).pathname + new URL(page.url()).search;
    got.lang = await page.getAttribute("html", "lang");
    got.order = await page.locator("li.card[data-occurrence]").evaluateAll((cards) => cards.map((c) => c.dataset.occurrence));
    got.focus = await page.locator("#focus li.card").evaluateAll((cards) => cards.map((c) => c.dataset.occurrence));
    got.older = await page.locator("#older-cards li.card").count();
    got.olderOpen = await page.locator("#older").evaluate((d) => d.open);
    got.firstCardTop = await page.locator("#focus li.card").first().evaluate((c) => c.getBoundingClientRect().top);
    got.firstAnswerTop = await page.locator("#focus a.act").first().evaluate((a) => a.getBoundingClientRect().bottom);
    got.height = await page.evaluate(() => document.documentElement.scrollHeight);
    got.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    got.raw = rawCodes(await visibleText(page));
    await page.screenshot({ path: `${artifacts}/focal-my-${lang}-${width}.png`, fullPage: true });
    await page.screenshot({ path: `${artifacts}/focal-my-${lang}-${width}-top.png` });
    // tap 2: "Answer this deadline" on one of the email's deadlines
    const oid = width === "390" ? answer390 : answer1280;
    await Promise.all([page.waitForURL(`**/occurrences/${oid}?answer=1*`),
                       page.locator(`#focus a.act[data-answer="${oid}"]`).click()]);
    got.taps += 1;
    got.answerPage = new URL(page.url()).pathname;
    got.focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    got.answerRaw = rawCodes(await visibleText(page));
    got.answerScrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: `${artifacts}/focal-answer-${lang}-${width}.png` });
    // typing is not a tap: the letter's number field has the focus on arrival
    await page.keyboard.type(width === "390" ? "12-3/45" : "12-3/46");
    // tap 3: send
    await Promise.all([page.waitForURL(`**/occurrences/${oid}?done=answer*`), page.locator("#send").click()]);
    got.taps += 1;
    got.done = (await page.locator("#done").innerText()).trim();
    got.status = (await page.locator("#status").innerText()).trim();
    got.doneRaw = rawCodes(await visibleText(page));
    await page.screenshot({ path: `${artifacts}/focal-answered-${lang}-${width}.png`, fullPage: true });
    // back to her page on the same deadlines (a link beside "Answer recorded"): the answered one stays first, answered
    got.back = await page.locator("#back-to-email").getAttribute("href");
    await Promise.all([page.waitForURL("**/my?items=*"), page.locator("#back-to-email").click()]);
    got.afterOrder = await page.locator("#focus li.card").evaluateAll((cards) => cards.map((c) => c.dataset.occurrence));
    got.afterAnswerable = await page.locator("#focus a.act").evaluateAll((links) => links.map((a) => a.dataset.answer));
    // ?lang= switches the page and is remembered
    await page.goto(`${base}/my?lang=${lang === "kk" ? "ru" : "kk"}`);
    got.switched = await page.getAttribute("html", "lang");
    await page.goto(`${base}/occurrences/${oid}`);
    got.remembered = await page.getAttribute("html", "lang");
    await context.close();
    seen.widths[width] = got;
  }
  // An item link of the email, in a browser that has no session yet.
  const fresh = await browser.newContext(sizes["390"]);
  const page = await fresh.newPage();
  const response = await page.goto(itemLink);
  seen.item = { status: response.status(), path: new URL(page.url()).pathname,
                heading: await page.locator("h1[data-occurrence]").getAttribute("data-occurrence"),
                lang: await page.getAttribute("html", "lang"), raw: rawCodes(await visibleText(page)),
                scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth) };
  await page.screenshot({ path: `${artifacts}/focal-item-${lang}-390.png`, fullPage: true });
  await fresh.close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
