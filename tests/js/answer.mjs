// The answer loop in headless Chromium, in two acts with a tick between them (run by the Python test):
//   first:  the focal point opens her link (from a real email) on a phone, answers with a document;
//           the reviewer opens his link, finds the answer in the queue, returns it with a reason.
//   second: the focal point opens the link of the next email, sees why it came back, answers again;
//           the reviewer accepts; the history shows everything.
// Screenshots in Kazakh and Russian, 1280 and 390 px wide. Prints what it saw as JSON.
// Usage: node answer.mjs first|second BASE FOCAL_LINK REVIEWER_LINK OCCURRENCE ARTIFACT_DIR DOCUMENT
import { chromium } from "playwright-core";

const [act, base, focalLink, reviewerLink, occurrence, artifacts, document_] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = { violations: [] };
// Her browser speaks Kazakh: the page's language follows Accept-Language before her contact's language.
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "kk-KZ" };
const laptop = { viewport: { width: 1280, height: 900 }, locale: "kk-KZ" };

async function open(options, link) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) seen.violations.push(m.text()); });
  const response = await page.goto(link);
  return { context, page, status: response.status() };
}

async function shot(page, name) {
  await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
  await page.screenshot({ path: `${artifacts}/${name}-top.png` });  // what the screen shows on arrival
  return await page.evaluate(() => document.documentElement.scrollWidth);
}

try {
  if (act === "first") {
    const focal = await open(phone, focalLink);
    seen.focalLanded = new URL(focal.page.url()).pathname;
    seen.cookies = (await focal.context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, secure: c.secure }));
    seen.lang = await focal.page.getAttribute("html", "lang");
    seen.phoneWidth = await shot(focal.page, "my-kk-390");
    seen.listed = await focal.page.locator(`input[name=occurrence][value="${occurrence}"]`).count();
    await focal.page.check(`input[name=occurrence][value="${occurrence}"]`);
    await focal.page.locator("#answer").scrollIntoViewIfNeeded();
    await focal.page.screenshot({ path: `${artifacts}/my-kk-390-form.png` });
    await focal.page.fill("#ref", "12-3/45");
    await focal.page.fill("#ref_date", "2022-12-08");
    await focal.page.fill("#text", "2022 жылы 14 іс-шара өткізілді, 320 адам оқытылды.");
    await focal.page.setInputFiles("#files", document_);
    await Promise.all([focal.page.waitForURL("**/my?done=answer"), focal.page.click("#send")]);
    seen.done = (await focal.page.locator("#done").innerText()).trim();
    seen.phoneWidthAfter = await shot(focal.page, "my-kk-390-answered");

    const reviewer = await open({ ...laptop, locale: "kk-KZ" }, reviewerLink);
    seen.reviewerLanded = new URL(reviewer.page.url()).pathname;
    seen.queued = await reviewer.page.locator(`#new-answers a[href="/occurrences/${occurrence}"]`).count();
    await shot(reviewer.page, "queue-kk-1280");
    await Promise.all([reviewer.page.waitForURL(`**/occurrences/${occurrence}`),
                       reviewer.page.click(`#new-answers a[href="/occurrences/${occurrence}"]`)]);
    seen.documents = await reviewer.page.locator("#documents a").allInnerTexts();
    const download = reviewer.page.waitForEvent("download");
    await reviewer.page.click("#documents a");
    seen.downloaded = (await download).suggestedFilename();
    await reviewer.page.fill("#reason-return", "Кесте жоқ: 2-қосымшаны толтырыңыз");
    await Promise.all([reviewer.page.waitForURL((u) => u.searchParams.get("done") === "return"), reviewer.page.click("#do-return button")]);
    seen.returnSaid = (await reviewer.page.locator("#done").innerText()).trim();
    seen.afterReturn = (await reviewer.page.locator("#status").innerText()).trim();
    await shot(reviewer.page, "occurrence-kk-1280-returned");
  } else {
    const focal = await open(laptop, focalLink);
    seen.focalLanded = new URL(focal.page.url()).pathname;
    seen.returnedNote = (await focal.page.locator(`#o-${occurrence.replaceAll(":", "\\:")} .note`).allInnerTexts()).join(" | ");
    seen.laptopWidth = await shot(focal.page, "my-kk-1280");
    await focal.page.goto(base + "/my?lang=ru");
    seen.langRu = await focal.page.getAttribute("html", "lang");
    await shot(focal.page, "my-ru-1280");
    const small = await focal.context.newPage();
    await small.setViewportSize({ width: 390, height: 844 });
    await small.goto(base + "/my");  // the language is remembered in a cookie
    seen.phoneLang = await small.getAttribute("html", "lang");
    seen.phoneWidthRu = await shot(small, "my-ru-390");
    await small.goto(`${base}/occurrences/${occurrence}`);
    await shot(small, "occurrence-ru-390-focal");
    await focal.page.check(`input[name=occurrence][value="${occurrence}"]`);
    await focal.page.fill("#ref", "12-3/51");
    await focal.page.fill("#ref_date", "2022-12-12");
    await focal.page.fill("#text", "Кесте қосылды (2-қосымша).");
    await focal.page.setInputFiles("#files", document_);
    await Promise.all([focal.page.waitForURL("**/my?done=answer"), focal.page.click("#send")]);
    seen.done = (await focal.page.locator("#done").innerText()).trim();

    const reviewer = await open({ ...phone, locale: "kk-KZ" }, reviewerLink);
    await reviewer.page.goto(`${base}/occurrences/${occurrence}`);
    await Promise.all([reviewer.page.waitForURL((u) => u.searchParams.get("done") === "accept"), reviewer.page.click("#do-accept button")]);
    seen.acceptSaid = (await reviewer.page.locator("#done").innerText()).trim();
    seen.afterAccept = (await reviewer.page.locator("#status").innerText()).trim();
    seen.history = await reviewer.page.locator("#events tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.action));
    seen.historyText = await reviewer.page.locator("#events").innerText();
    seen.reviewerPhoneWidth = await shot(reviewer.page, "occurrence-kk-390-accepted");
    await reviewer.page.goto(`${base}/occurrences/${occurrence}?lang=ru`);
    await shot(reviewer.page, "occurrence-ru-390-accepted");
    await reviewer.context.close();
    const wide = await open({ ...laptop, locale: "kk-KZ" }, reviewerLink);
    await wide.page.goto(`${base}/occurrences/${occurrence}`);
    await shot(wide.page, "occurrence-kk-1280-accepted");
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
