// The Seoul Smart City Prize through Laurel's pages, in the system's Chromium: an applicant
// registers, uploads the recommendation letter and submits (after the form shows what is
// missing, next to its field); the administrator opens the call, reviews an application,
// invites the judges and runs the rounds; judges sign in with their mailed links, mark in the
// expert and final rounds, one recuses; results are published; the applicant sees the outcome;
// the public page shows the winners; the playground catches a broken rubric; a judge marks
// fifty entries of another award with the keyboard alone, abstaining on a criterion on every
// tenth. Every page is checked by axe-core (no serious or critical violation) and photographed.
//
// Env: LAUREL_URL, MAIL_DIR (the server's mail folder), SHOTS (where screenshots go),
// ADMIN_KEY (the bootstrap key: only for what integrators and operators do over the API),
// ADMIN_EMAIL, EXAMPLES (the Seoul example folder), CHROMIUM (the browser's path).

import { chromium } from "playwright-core";
import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const BASE = process.env.LAUREL_URL;
const MAIL_DIR = process.env.MAIL_DIR;
const SHOTS = process.env.SHOTS;
const ADMIN_KEY = process.env.ADMIN_KEY;
const ADMIN_EMAIL = process.env.ADMIN_EMAIL;
const EXAMPLES = process.env.EXAMPLES;
const AWARD = "seoul-smart-city-prize-2023";
mkdirSync(SHOTS, { recursive: true });

function fail(message) {
  throw new Error(message);
}
function expect(condition, message) {
  if (!condition) fail(message);
}

// ---- mail, as the server's folder holds it --------------------------------------------------
const used = new Set();
function decode(eml) {
  // Parts in base64 (a mail in Korean, say) are decoded and added; quoted-printable is undone.
  const parts = [...eml.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+\/=\r\n]+)/g)]
    .map((m) => Buffer.from(m[1].replace(/\s/g, ""), "base64").toString("utf8"));
  return [eml.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), ...parts].join("\n");
}
async function linkFor(email) {
  const started = Date.now();
  while (Date.now() - started < 30000) {
    let files = [];
    try {
      files = readdirSync(MAIL_DIR).filter((f) => f.endsWith(".eml"));
    } catch (_) {}
    files.sort((a, b) => statSync(join(MAIL_DIR, b)).mtimeMs - statSync(join(MAIL_DIR, a)).mtimeMs);
    for (const f of files) {
      const text = decode(readFileSync(join(MAIL_DIR, f), "utf8"));
      const to = /^To: (.*)$/im.exec(text);
      if (!to || !to[1].toLowerCase().includes(email.toLowerCase())) continue;
      const m = /(http:\/\/[^\s"<>]*\/sign-in\?token=[A-Za-z0-9]+)/.exec(text);
      if (m && !used.has(m[1])) {
        used.add(m[1]);
        return m[1];
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`no sign-in link mailed to ${email}`);
}

// ---- the API, for what integrators and operators do ----------------------------------------
async function api(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (_) {}
  return { status: r.status, json, text };
}

// ---- pages -------------------------------------------------------------------------------
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
let shot = 0;
const checked = [];

async function person(locale = "en-GB", width = 1100) {
  // bypassCSP lets the test inject axe-core; the pages themselves run under their CSP.
  const context = await browser.newContext({ locale, viewport: { width, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  // A passkey authenticator in the device, as a laptop's fingerprint reader would be.
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", { options: {
    protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  page.on("pageerror", (e) => fail(`a script error on ${page.url()}: ${e}`));
  return page;
}

async function look(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length > 0) {
    fail(`axe on ${name} (${page.url()}): ` + bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`).join("; "));
  }
  shot += 1;
  const file = join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  checked.push(name);
  // Every page carries the CSP without inline script.
  return file;
}

async function signIn(page, email) {
  const link = await linkFor(email);
  await page.goto(link);
  await page.getByRole("button", { name: /Sign in|로그인/ }).click();
  await page.waitForURL(/\/me(\/passkeys)?$|\/sign-in\/passkey$/);
  // An administrator confirms with a passkey: registers one the first time, uses it after.
  if (page.url().endsWith("/me/passkeys")) {
    await look(page, "passkey-register");
    await page.getByRole("button", { name: /Add a passkey|패스키 추가/ }).click();
    await page.waitForURL(/\/me$/);
  } else if (page.url().endsWith("/sign-in/passkey")) {
    await look(page, "passkey-use");
    await page.getByRole("button", { name: /Use my passkey|내 패스키 사용/ }).click();
    await page.waitForURL(/\/me$/);
  }
}

async function csp(page, path) {
  const r = await page.request.get(BASE + path);
  const policy = r.headers()["content-security-policy"] || "";
  expect(policy.includes("script-src 'self'") && !policy.includes("unsafe-inline"), `CSP of ${path}: ${policy}`);
}

// 1. The public home page and the call, in English and in Korean.
const visitor = await person("ko-KR");
await visitor.goto(BASE + "/");
expect((await visitor.locator("html").getAttribute("lang")) === "ko", "Accept-Language ko gives Korean");
await look(visitor, "home-ko");
await csp(visitor, "/");
await visitor.goto(BASE + `/awards/${AWARD}?lang=en`);
expect((await visitor.locator("h1").textContent()).includes("Seoul Smart City Prize"), "the call's page");

// 2. The administrator (invited by `serve --admin-email`) signs in and opens the call.
const admin = await person();
await signIn(admin, ADMIN_EMAIL);
await look(admin, "admin-me");
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.getByRole("button", { name: "Open the call" }).click();
await admin.waitForURL(/done=open/);
// The call's dates, in the award's time zone, and how long is left.
const callText = await admin.locator("#h-call").locator("xpath=..").textContent();
expect(callText.includes("2023-05-31 18:00 (Asia/Seoul)") && /\d+ days left/.test(callText), "the closing date and the time left: " + callText.slice(0, 300));
// The programme manager moves the closing date by a week, with a reason, in the pages.
await admin.locator("#h-call").locator("xpath=..").locator("summary").click();
await admin.locator("#t-closes").fill("2023-06-07T18:00");
await admin.locator("#t-reason").fill("Extended at the partner cities' request.");
await admin.getByRole("button", { name: "Move the dates" }).click();
await admin.waitForURL(/done=timeline/);
expect((await admin.locator("#h-call").locator("xpath=..").textContent()).includes("2023-06-07 18:00 (Asia/Seoul)"), "the new closing date is shown");
await look(admin, "admin-dashboard-open");

// 3. Integrators' portals send some applications over the API.
const examples = JSON.parse(readFileSync(join(EXAMPLES, "applications.json"), "utf8"));
const chosen = ["app-001", "app-002", "app-053", "app-058", "app-060"];
for (const id of chosen) {
  const app = examples.find((a) => a.id === id);
  // A file the application refers to is uploaded first, with the same key (the server takes a
  // reference only to a file its submitter uploaded).
  for (const [field, ref] of Object.entries(app.fields)) {
    if (ref && typeof ref === "object" && ref.sha256) {
      const up = await fetch(BASE + `/v1/awards/${AWARD}/uploads?field=${field}&name=${ref.name}`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body: readFileSync(join(EXAMPLES, "files", ref.name)),
      });
      expect(up.status === 201, `uploading ${ref.name}: ${up.status} ${await up.text()}`);
    }
  }
  const r = await api("POST", `/v1/awards/${AWARD}/applications`, app);
  expect(r.status === 201, `submitting ${id}: ${r.status} ${r.text}`);
}

// 4. An applicant registers on the call's page, confirms by the mailed link, and applies.
const applicant = await person();
await applicant.goto(BASE + `/awards/${AWARD}`);
await look(applicant, "call");
await applicant.getByLabel("Your name").fill("Amina Odhiambo");
await applicant.getByLabel("E-mail address").fill("amina@example.org");
await applicant.getByRole("button", { name: "Create my account" }).click();
await look(applicant, "check-mail");
await signIn(applicant, "amina@example.org");
await applicant.goto(BASE + `/awards/${AWARD}/apply`);
await applicant.getByLabel("I apply as").selectOption("individual");
await applicant.getByLabel("Category").selectOption("leadership");
await applicant.getByRole("button", { name: "Continue" }).click();
await look(applicant, "apply-form");
// The same form in Korean on a phone: its parts listed first, each with how many of its
// required answers are given (counted again as the applicant types), nothing wider than the
// screen.
{
  const context = await browser.newContext({ locale: "ko-KR", viewport: { width: 390, height: 844 }, bypassCSP: true });
  await context.addCookies(await applicant.context().cookies());
  const phone = await context.newPage();
  phone.on("pageerror", (e) => fail(`a script error on ${phone.url()}: ${e}`));
  await phone.goto(BASE + `/awards/${AWARD}/apply?category=leadership&applicant_type=individual&lang=ko`);
  await phone.waitForFunction(() => (document.querySelector("[data-section-progress='applicant']")?.textContent || "").includes("필수 답변"));
  const parts = await phone.locator("nav.form-sections").textContent();
  expect(parts.includes("신청서 구성") && parts.includes("4부 중 1부") && parts.includes("신청자 정보"), "the form's parts in Korean: " + parts);
  const before = await phone.locator("[data-section-progress='applicant']").textContent();
  await phone.locator("#f-city").fill("나이로비");
  const after = await phone.locator("[data-section-progress='applicant']").textContent();
  expect(before !== after && /개 중 1개/.test(after), `the part's count moves as the applicant types: ${before} -> ${after}`);
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  expect(wide <= 390, `the form fits the phone's width: ${wide}px`);
  await look(phone, "apply-form-ko-phone");
  await context.close();
}
// Submitted half-filled: every problem comes back next to its field, nothing is lost.
// The country is chosen from a list of names in the reader's language; its code is stored.
await applicant.getByLabel("Country").selectOption({ label: "Kenya" });
await applicant.getByRole("button", { name: "Submit my application" }).click();
expect((await applicant.locator("#f-city-problems").count()) === 1, "the missing city is flagged next to its field");
expect((await applicant.getByLabel("Country").inputValue()) === "KE", "what was chosen is kept");
await look(applicant, "apply-problems");
// Saved as a draft, left, and resumed: the choice and what was typed come back.
await applicant.getByRole("button", { name: "Save as draft" }).click();
expect((await applicant.locator("p.notice").textContent()).includes("draft is saved"), "the draft is saved");
await applicant.goto(BASE + "/me");
expect((await applicant.locator("main").textContent()).includes("A draft, not submitted"), "the draft is on the applicant's page, with its completion");
await look(applicant, "me-draft");
await applicant.goto(BASE + `/awards/${AWARD}/apply`);
expect((await applicant.getByLabel("Country").inputValue()) === "KE", "the draft comes back");
await applicant.locator("#f-applicant_name").fill("Amina Odhiambo");
await applicant.locator("#f-city").fill("Nairobi");
// Autosave: what is typed is kept as a draft without pressing anything.
await applicant.locator("#autosave-status").filter({ hasText: "Draft saved automatically" }).waitFor({ timeout: 10000 });
await applicant.reload();
expect((await applicant.locator("#f-city").inputValue()) === "Nairobi" && (await applicant.locator("#f-applicant_name").inputValue()) === "Amina Odhiambo", "the autosaved draft comes back");
await applicant.locator("#f-contact-name").fill("Amina Odhiambo");
await applicant.locator("#f-contact-email").fill("amina@example.org");
// Conditional questions: the nominator is asked of a nomination, the letter of a self-nomination.
await applicant.locator("#f-nomination_type").selectOption("nominated");
expect(await applicant.locator("#f-nominator-name").isVisible() && !(await applicant.locator("#f-recommendation_letter").isVisible()), "a nomination asks for its nominator, not a letter");
await applicant.locator("#f-nomination_type").selectOption("self");
expect(!(await applicant.locator("#f-nominator-name").isVisible()) && await applicant.locator("#f-recommendation_letter").isVisible(), "a self-nomination asks for a letter, not a nominator");
expect((await applicant.locator("main").textContent()).includes("Answer this only if “Nomination” is “Self-nomination with a letter of recommendation”"), "the condition is said in words");
await applicant.locator("#f-achievements").fill(
  "Led Nairobi's open data programme and a regional network of smart city practitioners, sharing tools and methods with peer cities across East Africa.",
);
{
  const counter = (await applicant.locator("#f-achievements-counter").textContent()) || "";
  expect(/^\d+ characters \(at least \d+/.test(counter), "a long answer counts its characters as typed: " + counter);
}
const letter = join(SHOTS, "letter.pdf");
writeFileSync(letter, "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
// With script, a chosen file uploads on its own at once (with its progress), bounded by its
// field's limit, not the form's: a 9 MiB letter goes through; choosing another replaces it.
const big = join(SHOTS, "big-letter.pdf");
writeFileSync(big, "%PDF-1.4\n" + "0".repeat(9 * 1024 * 1024) + "\n%%EOF\n");
const uploadStatus = applicant.locator("#f-recommendation_letter-upload");
await applicant.locator("#f-recommendation_letter").setInputFiles(big);
await applicant.waitForFunction(() => (document.getElementById("f-recommendation_letter-upload")?.textContent || "").startsWith("Uploaded"));
expect(((await uploadStatus.textContent()) || "").includes("big-letter.pdf (9.0 MB)"), "the 9 MiB letter uploaded: " + (await uploadStatus.textContent()));
await look(applicant, "apply-uploaded");
await applicant.locator("#f-recommendation_letter").setInputFiles(letter);
await applicant.waitForFunction(() => (document.getElementById("f-recommendation_letter-upload")?.textContent || "").includes("Uploaded: letter.pdf"));
const kept = await applicant.locator("input[type=hidden][name='f.recommendation_letter.name']").inputValue();
expect(kept === "letter.pdf", `the second file replaces the first: ${kept}`);
const progress = (await applicant.locator("#form-progress").textContent()) || "";
console.log(`form: ${progress}`);
expect(/^(\d+) of \1 required answers given \(100%\)$/.test(progress.trim()), `every required answer is counted as given: ${progress}`);
await applicant.getByRole("button", { name: "Submit my application" }).click();
await applicant.waitForURL(/applications\/a-[0-9a-f]+\?submitted=1/);
const mine = /applications\/(a-[0-9a-f]+)/.exec(applicant.url())[1];
expect((await applicant.locator("body").textContent()).includes("Eligible"), "the application is eligible");
await look(applicant, "application-status");

// 5. The administrator reviews the application that needs it, then closes the call.
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.getByRole("link", { name: "app-053" }).first().click();
const facts = await admin.locator("dl.facts").textContent();
expect(facts.includes("Tunisia") && !facts.includes("false"), "the country and yes/no are shown in words, not codes");
await admin.getByLabel("Admit").check();
await admin.getByLabel("Reason").fill("A national programme aimed at three pilot cities: in line with the Prize's objective.");
await look(admin, "admin-review");
await admin.getByRole("button", { name: "Record the review" }).click();
await admin.waitForURL(/done=review/);
// Once admitted, it no longer reads as waiting for a review.
await admin.goto(BASE + `/awards/${AWARD}/admin/applications/app-053`);
const reviewed = await admin.locator("dl.facts").textContent();
expect(reviewed.includes("Admitted after an administrator's review") && !reviewed.includes("Needs an administrator's review"), "the review decides the eligibility shown");
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.getByRole("button", { name: "Close the call" }).click();
await admin.waitForURL(/done=close/);

// 6. The jury, in the pages: one judge typed in (and invited at once), the others from a CSV
// file; a file with a mistake adds nobody and says every problem.
const judges = JSON.parse(readFileSync(join(EXAMPLES, "judges.json"), "utf8"));
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.getByRole("link", { name: /The jury/ }).click();
await look(admin, "jury-empty");
const kim = judges.find((j) => j.id === "judge-kim");
await admin.locator("#j-name").fill(kim.name);
await admin.locator("#j-email").fill("judge-kim@jury.example");
await admin.locator("#j-organisation").fill(kim.organisation);
await admin.locator("#j-city").fill(kim.city);
await admin.locator("#j-country").selectOption({ label: "South Korea" });
await admin.locator("#j-expertise").fill(kim.expertise.join(", "));
await admin.locator("#j-conflicts").selectOption("app-002");
await admin.locator("#j-conflict_reason").fill("Advised the project in 2021.");
await admin.locator("#j-language").selectOption("ko");
await admin.getByRole("button", { name: "Add the judge" }).click();
await admin.waitForURL(/done=judge_invited/);
const others = judges.filter((j) => j.id !== "judge-kim");
const row = (j, country, email) => [j.name, email || `${j.id}@jury.example`, j.organisation, j.city, country, j.expertise.join(";")].map((c) => `"${c}"`).join(",");
const header = "name,email,organisation,city,country,expertise";
await admin.locator("#csv-text").fill([header, row(others[0], "Koera"), row(others[1], others[1].country, "not-an-address")].join("\n"));
await admin.getByRole("button", { name: "Add these judges" }).click();
const refusal = await admin.locator("#problems").textContent();
expect(refusal.includes("Line 2") && refusal.includes("South Korea") && refusal.includes("Line 3") && refusal.includes("not-an-address"), "every problem of the file, by line: " + refusal);
expect((await admin.locator("main table tbody tr").count()) === 1, "a file with a problem adds nobody");
await look(admin, "jury-file-problems");
await admin.locator("#csv-text").fill([header, ...others.map((j) => row(j, j.country))].join("\n"));
await admin.getByRole("button", { name: "Add these judges" }).click();
await admin.waitForURL(/done=judges_imported/);
const juryText = await admin.locator("main table").first().textContent();
expect(others.every((j) => juryText.includes(j.name)) && juryText.includes("Colombia") && juryText.includes("Invited"), "the jury by name, country by name, invited: " + juryText.slice(0, 400));
expect(juryText.includes("Project 2: Smart Mobility for Tallinn"), "a declared conflict names the entry");
await look(admin, "jury");
// A message to the jury, previewed (with its recipients counted), then sent; the award's own
// text for the outcome mail, previewed with sample values.
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.getByRole("link", { name: /^Messages/ }).click();
await admin.locator("#m-to").selectOption("judges");
await admin.locator("#m-subject").fill("{award}: the jury meets on 20 June");
await admin.locator("#m-body").fill("Dear {name},\n\nthe jury meets online on 20 June at 10:00 (Seoul).");
await admin.getByRole("button", { name: "Preview" }).first().click();
const previewed = await admin.locator("main").textContent();
expect(previewed.includes(`this goes to ${judges.length} people`) && previewed.includes("Seoul Smart City Prize 2023: the jury meets on 20 June"), "the preview counts and fills: " + previewed.slice(0, 600));
await look(admin, "messages-preview");
await admin.getByRole("button", { name: "Send" }).click();
await admin.waitForURL(/done=message_sent/);
await admin.locator("summary", { hasText: "Outcome to an applicant · English" }).click();
await admin.locator("#t-subject-outcome-en").fill("{award}: your result");
await admin.locator("#t-body-outcome-en").fill("Dear {name},\n\n{entry}: {outcome}.");
await admin.locator("#t-body-outcome-en").locator("xpath=ancestor::form").getByRole("button", { name: "Preview" }).click();
expect((await admin.locator("div.preview").first().textContent()).includes("“Smart Mobility for Tallinn” (app-002): Winner."), "the text previewed with sample values");
await admin.locator("#t-body-outcome-en").locator("xpath=ancestor::form").getByRole("button", { name: "Save" }).click();
await admin.waitForURL(/done=text_saved/);
await look(admin, "messages");

// Every entry by name: searched, filtered, sorted.
await admin.goto(BASE + `/awards/${AWARD}/admin/entries`);
await admin.locator("#e-q").fill("tallinn");
await admin.getByRole("button", { name: "Show" }).click();
expect((await admin.locator("main table tbody tr").count()) === 1, "one entry matches Tallinn");
expect((await admin.locator("main table tbody").textContent()).includes("Project 2: Smart Mobility for Tallinn"), "found by its name");
await admin.goto(BASE + `/awards/${AWARD}/admin/entries?sort=title`);
await look(admin, "entries");
const jury = {};
for (const j of judges) {
  jury[j.id] = await person(j.id === "judge-kim" ? "ko-KR" : "en-GB", 420);
  await signIn(jury[j.id], `${j.id}@jury.example`);
}
// Kim reads the pages in Korean (the choice is kept in a cookie).
await jury["judge-kim"].goto(BASE + "/work?lang=ko");

async function roundButton(label, round) {
  await admin.goto(BASE + `/awards/${AWARD}/admin`);
  const form = admin.locator("form").filter({ has: admin.locator(`input[name=round][value=${round}]`) }).filter({ has: admin.getByRole("button", { name: label }) });
  await form.getByRole("button", { name: label }).click();
  await admin.waitForURL(/done=/);
}

// Every judge marks what is due; marks vary by judge and application.
let recused = false;
const keyboardSheets = [];
let keptShown = false;
async function markAll(round) {
  for (let pass = 0; pass < 4; pass++) {
    let due = 0;
    for (const [id, page] of Object.entries(jury)) {
      await page.goto(BASE + "/work");
      const links = await page.locator(`tr:has(span.due) a[href*="/rounds/${round}/sheets/"]`).evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      for (const href of links) {
        await page.goto(BASE + href);
        const row = await page.locator("input[name^='m.']").count();
        if (row === 0) continue;
        due += 1;
        if (round === "expert" && !recused && id !== "judge-kim") {
          recused = true;
          await look(page, "score-sheet");
          await page.getByLabel("Why (a conflict of interest, for example)").fill("I advised this city's transport office last year.");
          await page.getByRole("button", { name: "Recuse me from this application" }).click();
          await page.waitForURL(/\/work$/);
          continue;
        }
        // Half a sheet kept for later: it says what is still to mark, and counts only once whole.
        if (!keptShown && id !== "judge-kim" && id !== "judge-silva" && round === "expert") {
          keptShown = true;
          const groupsNow = page.locator("fieldset.indicator");
          await groupsNow.nth(0).locator("label.step").nth(10).click();
          await page.getByRole("button", { name: /Keep for later/ }).click();
          await page.waitForLoadState();
          const note = (await page.locator("div.warning").first().textContent()) || "";
          expect(note.includes("kept for later") && note.includes("Still to mark"), `the kept sheet says so: ${note}`);
          expect((await groupsNow.nth(0).locator("input:checked").getAttribute("value")) === "5", "the kept mark is shown again");
          await look(page, "score-sheet-kept");
        }
        // Each indicator is a row of step buttons (a radio group). One judge marks every entry
        // of the round with the keyboard alone: Tab to a group, type the mark, Enter on "Save and
        // go to the next entry"; the presses are counted per entry.
        const groups = page.locator("fieldset.indicator");
        const n = await groups.count();
        const byKeyboard = id === "judge-silva" && round === "expert";
        let presses = 0;
        if (byKeyboard) {
          await page.locator("fieldset.indicator input").first().focus();
        }
        for (let i = 0; i < n; i++) {
          const v = ((id.length * 7 + href.length * 3 + i * 5) % 11) + 5; // 5..15 half points: 2.5..7.5
          const mark = String(v / 2);
          if (byKeyboard) {
            // Tab to the group (past a criterion's comment box between criteria).
            while (i > 0 && !(await groups.nth(i).evaluate((g) => g.contains(document.activeElement)))) {
              await page.keyboard.press("Tab");
              presses += 1;
              if (presses > 400) break;
            }
            await page.keyboard.type(mark);
            presses += mark.length;
            const chosen = await groups.nth(i).locator("input:checked").getAttribute("value");
            expect(chosen === mark, `typing ${mark} chose ${chosen}`);
          } else {
            await groups.nth(i).locator("label.step").filter({ has: page.locator(`input[value='${mark}']`) }).click();
          }
        }
        if (byKeyboard) {
          // To the save button: past the criterion comments and the panel comment; Enter saves.
          while (!(await page.evaluate(() => document.activeElement && document.activeElement.matches("button[name=next]")))) {
            await page.keyboard.press("Tab");
            presses += 1;
            if (presses > 400) break;
          }
          if (keyboardSheets.length === 0) await look(page, "score-sheet-keyboard");
          await page.keyboard.press("Enter");
          presses += 1;
          await page.waitForURL(/saved=1|all_marked=1/);
          keyboardSheets.push({ marks: n, presses });
          expect(presses <= 4 * n + 12, `a sheet of ${n} marks takes ${presses} key presses`);
          continue;
        }
        if (id !== "judge-kim") {
          const progress = (await page.locator("#sheet-progress").textContent()) || "";
          expect(progress.trim() === `${n} of ${n} marks given`, `the sheet counts its marks: ${progress}`);
          // The running total, computed by the server as the rubric does, before saving.
          await page.waitForFunction(() => (document.querySelector("#sheet-total .total-line")?.textContent || "").startsWith("Your total"));
        }
        const criterionNote = page.locator("textarea[name^='cc.']").first();
        if (id === "judge-kim") await criterionNote.fill("근거가 명확합니다");
        await page.getByRole("button", { name: /Save my marks|점수 저장/ }).click();
        await page.waitForURL(/saved=1/);
        if (id === "judge-kim") expect((await criterionNote.inputValue()) === "근거가 명확합니다", "the criterion's comment is kept");
        if (id === "judge-kim" && round === "expert") {
          await look(page, "score-sheet-ko");
          // On the phone, each criterion's group of marks fits in at most three screens.
          const heights = await page.locator("fieldset.plain > fieldset").evaluateAll((fs) => fs.map((f) => f.getBoundingClientRect().height));
          const screens = Math.max(...heights) / 900;
          console.log(`phone: the tallest criterion group is ${screens.toFixed(2)} screens (420 x 900)`);
          expect(heights.length > 0 && screens <= 3, `a criterion group takes ${screens.toFixed(2)} screens on a phone`);
          expect(((await page.locator(".sheet-total").textContent()) || "").includes("총점"), "the saved sheet shows the judge's total");
          // On a wide screen the entry sits beside the sheet.
          await page.setViewportSize({ width: 1440, height: 900 });
          const [left, right] = await Promise.all([page.locator(".sheet-entry").boundingBox(), page.locator(".sheet-marks").boundingBox()]);
          expect(left && right && right.x > left.x + left.width - 1, "the entry and the sheet side by side");
          await look(page, "score-sheet-wide");
          await page.setViewportSize({ width: 420, height: 900 });
        }
      }
    }
    if (due === 0) return;
  }
}

// 7. Screening, the expert round (blind, with a recusal) and the final round.
await roundButton("Open the round", "screening");
await roundButton("Close the round", "screening");
await roundButton("Decide who goes on", "screening");
await roundButton("Open the round", "expert");
await look(admin, "admin-rounds");
await jury["judge-kim"].goto(BASE + "/work");
await look(jury["judge-kim"], "judge-queue-phone");
await markAll("expert");
expect(recused, "a judge recused");
expect(keyboardSheets.length > 0, "a judge marked by keyboard");
{
  const total = keyboardSheets.reduce((a, s) => a + s.presses, 0);
  const marks = keyboardSheets.reduce((a, s) => a + s.marks, 0);
  console.log(`keyboard: ${keyboardSheets.length} entries marked in one session, ${marks} marks, ${total} key presses (${(total / keyboardSheets.length).toFixed(1)} per entry, at most ${Math.max(...keyboardSheets.map((s) => s.presses))})`);
}
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await look(admin, "admin-progress");
await roundButton("Close the round", "expert");
// Before anyone goes on, the jury's diagnostics: agreement, each judge, the ranking's robustness.
await admin.goto(BASE + `/awards/${AWARD}/admin`);
expect((await admin.getByRole("link", { name: "Jury diagnostics" }).count()) >= 1, "the dashboard links the jury's diagnostics");
await admin.goto(BASE + `/awards/${AWARD}/admin/rounds/expert/diagnostics?draws=200`);
// The diagnosis runs as a job: the page shows how far it has come and looks again each second.
expect(admin.url().includes("?job=diag-"), "the page follows a job: " + admin.url());
await admin.getByRole("heading", { name: "Agreement" }).first().waitFor({ timeout: 180000 });
const diagnosis = await admin.locator("main").textContent();
expect(diagnosis.includes("Agreement") && diagnosis.includes("Would the winners change?"), "the diagnostics are shown: " + diagnosis.slice(0, 300));
expect((await admin.locator("svg.chart").count()) >= 3, "agreement, severity and rank intervals are drawn");
expect(!diagnosis.includes("`"), "warnings name judges, entries and categories instead of quoting ids");
await look(admin, "jury-diagnostics");
await roundButton("Decide who goes on", "expert");
await roundButton("Open the round", "final");
await markAll("final");
await roundButton("Close the round", "final");
// The committee decides the winners: our applicant wins leadership, app-001 tech-innovacity.
await admin.goto(BASE + `/awards/${AWARD}/admin`);
const legend = await admin.locator("fieldset", { has: admin.locator("#win-app-001") }).locator("legend").textContent();
expect(legend.includes("Project 1: Green Data for Bogotá") && legend.includes("Tech-InnovaCity") && /Score \d/.test(legend), "the committee decides from names, categories and scores: " + legend);
for (const app of [mine, "app-001"]) {
  await admin.locator(`#win-${app}`).check();
  await admin.locator(`#why-${app}`).fill("The committee's choice, for the evidence of results.");
}
await look(admin, "admin-decision");
await admin.getByRole("button", { name: "Record the decisions" }).click();
await admin.waitForURL(/done=round_decide/);

// The committee's special mention, with its reason, confirmed.
await admin.locator("#h-mentions").locator("xpath=..").getByRole("link", { name: "Choose the entries" }).click();
await admin.waitForURL(/admin\/mentions/);
await admin.locator("#mention-app-002").check();
await admin.locator("#mention-why-app-002").fill("For opening its mobility data to neighbouring cities.");
await admin.locator("#mentions-confirm").check();
await admin.getByRole("button", { name: "Record the special mentions" }).click();
await admin.waitForURL(/done=mentions/);
const mentioned = await admin.locator("#h-mentions").locator("xpath=..").textContent();
expect(mentioned.includes("1 given so far") && mentioned.includes("For opening its mobility data"), "the mention is recorded, with its reason: " + mentioned);

// 8. Results: computed, each number linked to its trace, published.
await admin.getByRole("button", { name: "Compute the results" }).click();
await admin.waitForURL(/done=results_compute/);
await look(admin, "admin-results");
await admin.locator("a[href*='/admin/results/']").first().click();
expect((await admin.locator("pre").textContent()).length > 50, "a trace is shown");
expect((await admin.locator("main table").count()) >= 1 && (await admin.locator("main dl.facts").textContent()).includes("Score"), "the trace reads as tables");
await look(admin, "trace");
await admin.goto(BASE + `/awards/${AWARD}/admin/charts`);
expect((await admin.locator("svg.chart").count()) >= 3, "entries and each round's scores are drawn");
await look(admin, "charts");
await admin.goto(BASE + `/awards/${AWARD}/admin`);
expect((await admin.locator("#h-results").locator("xpath=..").textContent()).includes("Published: No"), "not published yet");
await admin.locator("#publish-confirm").check();
await admin.getByRole("button", { name: "Publish the results" }).click();
await admin.waitForURL(/done=results_publish/);
expect((await admin.locator("#h-results").locator("xpath=..").textContent()).includes("Published: Yes, on "), "published, with its date");
const notice = await admin.locator("p.notice").first().textContent();
expect(notice.includes("The results are published") && !notice.includes("results_publish"), `the action is said in words: ${notice}`);
await look(admin, "admin-published");

// 9. The applicant sees the outcome; the public page shows the winners.
await applicant.goto(BASE + `/awards/${AWARD}/applications/${mine}`);
expect((await applicant.locator("body").textContent()).includes("Winner"), "the applicant sees they won");
// The signed receipt of what they sent, to download.
const receiptLink = applicant.locator(`a[href='/awards/${AWARD}/applications/${mine}/receipt']`);
expect(await receiptLink.count() === 1, "the applicant is offered their receipt");
const receiptAnswer = await applicant.request.get(BASE + `/awards/${AWARD}/applications/${mine}/receipt`);
const receipt = await receiptAnswer.json();
expect(receiptAnswer.ok() && JSON.parse(receipt.statement).application === mine && receipt.signature.length > 40, `the receipt is signed and names the application: ${JSON.stringify(receipt).slice(0, 200)}`);
await look(applicant, "outcome");
await visitor.goto(BASE + `/awards/${AWARD}/results?lang=en`);
const publicText = await visitor.locator("main").textContent();
expect(publicText.includes(mine) && publicText.includes("app-001"), "the public page names the winners");
expect(publicText.includes("Tech-InnovaCity Prize") && publicText.includes("Leadership Prize"), "each winner's prize is shown");
expect(publicText.includes("Check these results yourself") && publicText.includes("Certificate 1") && publicText.includes("laurel verify"), `the public page says how to verify: ${publicText.slice(-600)}`);
const certificateFile = await visitor.request.get(BASE + await visitor.locator("a", { hasText: "Download the verification file" }).getAttribute("href"));
const verification = await certificateFile.json();
expect(certificateFile.ok() && verification.format === "laurel-verification/1" && !verification.bundle.includes('"app-001"'), "anyone downloads the verification file, under pseudonyms");
await look(visitor, "public-results");

// A closed round's marks are corrected from a number's trace, with a reason.
await admin.goto(BASE + `/awards/${AWARD}/admin`);
await admin.locator("a[href*='/admin/results/'][href*='round=expert']").first().click();
await admin.locator("summary", { hasText: ": total" }).first().click();
await admin.locator("summary", { hasText: "Correct this judge’s marks" }).first().click();
await admin.locator("form[action*='/correct'] input[name=reason]").first().fill("The judge's mark was entered on the wrong line.");
await admin.getByRole("button", { name: "Record the correction" }).first().click();
await admin.waitForURL(/corrected=1/);
expect((await admin.locator("p.notice").textContent()).includes("The correction is recorded"), "the correction is recorded");
await look(admin, "trace-corrected");

// 10. The playground catches a broken rubric, located.
const author = await person();
await author.goto(BASE + "/playground");
await look(author, "playground");
const broken = readFileSync(join(EXAMPLES, "..", "..", "tests", "valid", "minimal.award.json"), "utf8").replace('"weight": 2', '"weight": -2');
await author.locator("#rubric-source").fill(broken);
// Where script runs, the problems appear as the rubric is typed.
await author.locator("#live-problems li").first().waitFor({ timeout: 10000 });
expect((await author.locator("#live-problems").textContent()).includes("weight"), "checked as typed");
// The problem's value is set as code, without the message's code marks.
expect(!(await author.locator("#live-problems").textContent()).includes("`"), "no code marks as typed");
expect((await author.locator("#live-problems li code").allTextContents()).includes("-2"), "the weight as code as typed");
await author.getByRole("button", { name: "Check the rubric" }).click();
const report = await author.locator("main").textContent();
expect(report.includes("/categories/0/criteria/0/weight"), "the broken weight is located: " + report.slice(0, 400));
expect(report.includes("1 error, 0 warnings"), "one error counted in words: " + report.slice(0, 400));
expect(!report.includes("`"), "no code marks in the report: " + report.slice(0, 400));
expect((await author.locator("main ol li code").allTextContents()).includes("-2"), "the weight as code in the report");
await look(author, "playground-problems");
// Fixed, it shows the form and scores the sample: every judge marks Lyon above Nantes, and
// Sète (800 inhabitants) is not eligible.
await author.locator("#rubric-source").fill(broken.replace('"weight": -2', '"weight": 2'));
await author.getByRole("button", { name: "Check the rubric" }).click();
expect((await author.locator("main").textContent()).includes("No problem found"), "the fixed rubric is valid");
await author.getByRole("button", { name: "Score them" }).click();
const firstRow = await author.locator("main table tbody tr").first().textContent();
// Normalisation needs 5 marks per judge: skipped, with a warning; the trimmed mean of the
// three judges' weighted totals, (8, 7.5, 8.5) for Lyon, is 8.00.
expect(firstRow.includes("lyon") && firstRow.trim().startsWith("1") && firstRow.includes("8.00"), "Lyon ranks first with 8.00: " + firstRow);
expect((await author.locator("main").textContent()).includes("fewer than the 5 that normalisation needs"), "the skipped normalisation is said");
expect((await author.locator("main").textContent()).includes("sete: Not eligible"), "Sète is not eligible, in words");
expect((await author.locator("main p.warning code").allTextContents()).includes("ana"), "a warning sets the judge as code");
expect(!(await author.locator("main").textContent()).includes("`"), "no code marks in the results");
await look(author, "playground-scored");

// 11. The Seoul rubric with its two plugin files is valid in the playground; an administrator
// turns a rubric written there into a new award, not yet open, and lands on its dashboard.
const RUBRIC = join(EXAMPLES, "..", "..", "rubrics", AWARD);
await admin.goto(BASE + "/playground");
await admin.locator("#rubric-source").fill(readFileSync(join(RUBRIC, "award.json"), "utf8"));
await admin.locator("#plugin-files").setInputFiles([join(RUBRIC, "plugins", "context-adjusted-score.wasm"), join(RUBRIC, "plugins", "leadership-nomination.rhai")]);
await admin.getByRole("button", { name: "Check the rubric" }).click();
expect((await admin.locator("main").textContent()).includes("No problem found"), "the shipped rubric is valid with its plugin files: " + (await admin.locator("main ol").first().textContent().catch(() => "")));
const pilot = readFileSync(join(EXAMPLES, "..", "..", "tests", "valid", "minimal.award.json"), "utf8").replace(/"id": "[^"]+"/, '"id": "civic-pilot-2027"');
await admin.locator("#rubric-source").fill(pilot);
await admin.getByRole("button", { name: "Check the rubric" }).click();
await admin.getByRole("button", { name: "Create the award from this rubric" }).click();
await admin.waitForURL(/civic-pilot-2027\/admin\?done=created/);
expect((await admin.locator("#h-call").locator("xpath=..").textContent()).includes("Not open yet"), "the new award waits to be opened");
await look(admin, "created-from-playground");

// 12. A judge's night of fifty entries, with the keyboard alone: an award of 50 entries, one
// judge, four marks a sheet (one criterion the judge may abstain on, and does on every tenth
// entry: Space on its box). Tab to a group, type the mark, Tab on to "Save and go to the next
// entry", Enter; the presses are counted per entry.
{
  const V = "volume-2023";
  const definition = {
    format_version: "1.1", id: V, name: { en: "Volume test prize" }, edition: "2023",
    languages: { default: "en", available: ["en"] },
    timeline: { time_zone: "UTC", opens: "2023-01-01T00:00", closes: "2023-12-31T00:00", results: "2024-01-31T00:00" },
    applicant_types: [{ id: "team", name: "Team" }],
    form: { fields: [{ id: "title", type: "short_text", label: "Title", tags: ["title"] }] },
    scales: [{ id: "ten", min: 0, max: 9, step: 1 }],
    categories: [{ id: "main", name: "Main", applicant_types: ["team"], winners: 3, criteria: [
      { id: "idea", name: "Idea", weight: 2, indicators: [{ id: "novelty", name: "Novelty", weight: 1 }, { id: "clarity", name: "Clarity", weight: 1 }] },
      { id: "impact", name: "Impact", weight: 2, abstain: true, indicators: [{ id: "reach", name: "Reach", weight: 1 }] },
      { id: "team", name: "Team", weight: 1, indicators: [{ id: "skills", name: "Skills", weight: 1 }] },
    ] }],
    scoring: { scale: "ten", normalisation: { method: "none" } },
    rounds: [{ id: "review", name: { en: "Review" }, judges_per_application: 1, advance: { rule: "winners" } }],
  };
  let r = await api("POST", "/v1/awards", definition);
  expect(r.status === 201, "the volume award: " + r.text);
  for (const step of ["publish", "open"]) {
    r = await api("POST", `/v1/awards/${V}/${step}`, {});
    expect(r.status === 200 || r.status === 201, `${step}: ${r.text}`);
  }
  for (let i = 1; i <= 50; i++) {
    const id = `entry-${String(i).padStart(2, "0")}`;
    r = await api("POST", `/v1/awards/${V}/applications`, { id, category: "main", applicant_type: "team", fields: { title: `Entry ${i}` } });
    expect(r.status === 201, `entry ${i}: ${r.text}`);
  }
  expect((await api("POST", `/v1/awards/${V}/close`, {})).status === 200, "the call closes");
  r = await api("PUT", `/v1/awards/${V}/judges/judge-night`, { id: "judge-night", name: "Noor Haddad" });
  expect(r.status === 200, "the judge: " + r.text);
  r = await api("POST", `/v1/awards/${V}/invitations`, { email: "noor@jury.example", name: "Noor Haddad", role: "judge", judge: "judge-night" });
  expect(r.status === 201, "the invitation: " + r.text);
  r = await api("POST", `/v1/awards/${V}/rounds/review/open`, { seed: 1 });
  expect(r.status === 200 && r.json.assignments["judge-night"].length === 50, "fifty entries for one judge: " + r.text.slice(0, 300));
  const noor = await person();
  await signIn(noor, "noor@jury.example");
  await noor.goto(BASE + "/work");
  await noor.locator(`a[href*='/awards/${V}/rounds/review/sheets/']`).first().click();
  await noor.waitForURL(/\/sheets\//);
  const perEntry = [];
  for (let e = 0; e < 50; e++) {
    await noor.waitForLoadState();
    const groups = noor.locator("fieldset.indicator");
    const n = await groups.count();
    const abstains = e % 10 === 9;
    let presses = 0;
    await noor.locator("fieldset.indicator input").first().focus();
    for (let i = 0; i < n; i++) {
      const inImpact = (await groups.nth(i).locator("input[name='m.reach']").count()) > 0;
      if (abstains && inImpact) {
        // Tab back to the box before the group: its criterion's "I abstain".
        while (!(await noor.evaluate(() => document.activeElement && document.activeElement.name === "abstain.impact"))) {
          await noor.keyboard.press("Tab");
          presses += 1;
          if (presses > 200) break;
        }
        await noor.keyboard.press("Space");
        presses += 1;
        continue;
      }
      while (i > 0 && !(await groups.nth(i).evaluate((g) => g.contains(document.activeElement)))) {
        await noor.keyboard.press("Tab");
        presses += 1;
        if (presses > 200) break;
      }
      const mark = String((e * 3 + i * 5) % 10);
      await noor.keyboard.type(mark);
      presses += 1;
      const chosen = await groups.nth(i).locator("input:checked").getAttribute("value");
      expect(chosen === mark, `entry ${e + 1}: typing ${mark} chose ${chosen}`);
    }
    while (!(await noor.evaluate(() => document.activeElement && document.activeElement.matches("button[name=next]")))) {
      await noor.keyboard.press("Tab");
      presses += 1;
      if (presses > 200) break;
    }
    if (e === 9) {
      // The running total leaves the criterion out, and says why.
      await noor.waitForFunction(() => (document.querySelector("#sheet-total [data-criterion='impact']")?.textContent || "") === "abstained");
      await look(noor, "score-sheet-abstain");
    }
    const before = noor.url();
    await noor.keyboard.press("Enter");
    presses += 1;
    try {
      await noor.waitForURL((u) => u.href !== before && /saved=1|all_marked=1/.test(u.href), { timeout: 10000 });
    } catch (err) {
      const said = await noor.locator("main").textContent().catch(() => "");
      fail(`entry ${e + 1} (${presses} presses, focus ${await noor.evaluate(() => document.activeElement && document.activeElement.outerHTML.slice(0, 120))}) did not save: ${noor.url()} ${said.slice(0, 600)}`);
    }
    perEntry.push(presses);
  }
  expect(noor.url().includes("all_marked=1"), "after the fiftieth entry, the queue says all is marked: " + noor.url());
  const marked = await api("GET", `/v1/awards/${V}/rounds/review/marks?limit=1000`);
  expect(marked.json.length === 50, `fifty sheets saved: ${marked.json.length}`);
  const abstained = marked.json.filter((m) => (m.abstained || []).includes("impact"));
  expect(abstained.length === 5 && abstained.every((m) => m.marks.reach === undefined), `five abstentions, without their marks: ${abstained.length}`);
  const total = perEntry.reduce((a, b) => a + b, 0);
  console.log(`volume: one judge marked 50 entries with the keyboard alone, ${total} key presses (${(total / 50).toFixed(1)} per entry, at most ${Math.max(...perEntry)}; 4 marks a sheet, an abstention on every tenth)`);
  expect(Math.max(...perEntry) <= 4 * 4 + 12, `at most ${4 * 4 + 12} presses an entry: ${perEntry}`);
}

await browser.close();
console.log(`browser cycle: ok (${checked.length} pages checked by axe-core and photographed in ${SHOTS})`);
