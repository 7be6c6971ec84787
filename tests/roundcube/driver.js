#!/usr/bin/env node
// Browser steps for tests/roundcube/test_roundcube_sharing.py: Roundcube 1.6 (elastic
// skin, acl plugin in simple mode) in headless Debian chromium via playwright-core.
//
//   node driver.js <step> '<json params>'    step: share | grantee | unshare | refused
//
// Prints one line "RESULT {json}" ({ok, message, html, error, screenshot, ...}); on failure a
// full-page screenshot goes to params.shots.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const [step, raw] = process.argv.slice(2);
const p = JSON.parse(raw || '{}');
const TIMEOUT = 20000;

function result(obj) {
  process.stdout.write('RESULT ' + JSON.stringify(obj) + '\n');
}

async function login(page, user, password) {
  await page.goto(p.url + '/?_task=login');
  await page.fill('#rcmloginuser', user);
  await page.fill('#rcmloginpwd', password);
  await Promise.all([page.waitForURL(/_task=mail/), page.click('#rcmloginsubmit')]);
}

// Text of the next confirmation/error message (Roundcube shows framed pages' messages
// in the parent's #messagestack).
async function nextMessage(page) {
  const sel = '#messagestack div.confirmation, #messagestack div.error, #messagestack div.warning';
  const el = page.locator(sel).last();
  await el.waitFor({ state: 'visible', timeout: TIMEOUT });
  const cls = await el.getAttribute('class');
  return { text: (await el.innerText()).trim(), html: await el.innerHTML(),
           kind: /error/.test(cls) ? 'error' : /warning/.test(cls) ? 'warning' : 'confirmation' };
}

// Settings > Folders > <folder> > Sharing tab; returns the preferences frame.
async function openSharing(page, folder) {
  await page.goto(p.url + '/?_task=settings&_action=folders');
  const row = page.locator('#subscription-table li').filter({
    has: page.locator(`input[value="${folder}"]`) }).first();
  await row.waitFor({ timeout: TIMEOUT });
  await row.locator('a, span.name, div.name').first().click();
  const frame = page.frameLocator('#preferences-frame');
  // Roundcube 1.6 elastic: "Sharing" is a section (fieldset) of the folder form, shown
  // as a tab only in some layouts; click the tab if there is one, else scroll to it.
  await frame.locator('#acltable').waitFor({ state: 'attached', timeout: TIMEOUT });
  const tab = frame.locator('a.nav-link, [role=tab]', { hasText: 'Sharing' });
  if (await tab.count() && await tab.first().isVisible()) await tab.first().click();
  await frame.locator('#acllist-container').scrollIntoViewIfNeeded();
  return frame;
}

// Elastic opens a framed page's dialogs in the parent window (app.js show_popup_dialog
// "forward call to parent window"); look in both, the page first.
async function inDialog(page, frame, selector, opts) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    for (const root of [page.locator('.ui-dialog:visible'), frame.locator('.ui-dialog:visible')]) {
      const l = root.locator(selector, opts || {});
      if (await l.count()) return l.first();
    }
    if (Date.now() > deadline) throw new Error('no dialog with ' + selector + (opts && opts.hasText ? ' "' + opts.hasText + '"' : ''));
    await page.waitForTimeout(200);
  }
}

async function addEntry(page, frame, grantee, groups) {
  groups = groups || ['read'];
  await frame.locator('#acllist-footer a.create').scrollIntoViewIfNeeded();
  await frame.locator('#acllist-footer a.create').click();
  const user = await inDialog(page, frame, '#acluser');
  await user.fill(grantee);
  // simple mode: Read / Write / Delete / Other switches ("Read" is preselected)
  for (const g of ['read', 'write', 'delete', 'other']) {
    const cb = await inDialog(page, frame, '#acl' + g);
    await cb.setChecked(groups.includes(g), { force: true });
  }
  await (await inDialog(page, frame, 'button', { hasText: 'Save' })).click();
  return nextMessage(page);
}

async function rows(frame) {
  return (await frame.locator('#acltable tbody').innerText()).trim();
}

const steps = {
  async share(page) {
    await login(page, p.user, p.password);
    const frame = await openSharing(page, p.folder);
    const msg = await addEntry(page, frame, p.grantee, p.groups);
    if (p.anyOutcome && msg.kind !== 'confirmation') return { ok: true, kind: msg.kind, message: msg.text };
    if (msg.kind !== 'confirmation') return { ok: false, message: msg.text, error: 'Roundcube said: ' + msg.text };
    await frame.locator('#acltable tbody tr', { hasText: p.grantee }).waitFor({ timeout: TIMEOUT });
    const out = { ok: true, kind: msg.kind, message: msg.text, rows: await rows(frame) };
    if (p.screenshot) {
      await frame.locator('#acllist-container').scrollIntoViewIfNeeded();
      await page.waitForTimeout(500);
      await page.screenshot({ path: p.screenshot });
      out.screenshot = p.screenshot;
    }
    return out;
  },

  async grantee(page) {
    await login(page, p.user, p.password);
    // the mail view's folder list shows subscribed folders only
    const inMailList = await page.locator(`#mailboxlist li a[rel="${p.folder}"]`).count();
    await page.goto(p.url + '/?_task=settings&_action=folders');
    const inSettings = page.locator(`#subscription-table input[value="${p.folder}"]`);
    await inSettings.waitFor({ state: 'attached', timeout: TIMEOUT });
    // open it
    await page.goto(p.url + '/?_task=mail&_mbox=' + encodeURIComponent(p.folder));
    await page.locator('#messagelist tbody tr', { hasText: p.subject }).first().waitFor({ timeout: TIMEOUT });
    return { ok: true, message: `listed in Settings > Folders; ${inMailList ? 'also' : 'not'} in the mail view's folder list before subscribing (Roundcube lists subscribed folders there); opened by URL, message "${p.subject}" shown` };
  },

  async unshare(page) {
    await login(page, p.user, p.password);
    const frame = await openSharing(page, p.folder);
    await frame.locator('#acltable tbody tr', { hasText: p.grantee }).first().click();
    await frame.locator('#acllist-footer a.actions').click();
    await frame.locator('#acl-menu a.delete').click();
    await (await inDialog(page, frame, 'button', { hasText: 'Delete' })).click();
    const msg = await nextMessage(page);
    if (msg.kind !== 'confirmation') return { ok: false, message: msg.text, error: 'Roundcube said: ' + msg.text };
    await frame.locator('#acltable tbody tr', { hasText: p.grantee }).waitFor({ state: 'detached', timeout: TIMEOUT });
    return { ok: true, message: msg.text, rows: await rows(frame) };
  },

  async refused(page) {
    await login(page, p.user, p.password);
    const frame = await openSharing(page, p.folder);
    const msg = await addEntry(page, frame, p.grantee, p.groups);
    if (msg.kind === 'confirmation') return { ok: false, message: msg.text, error: 'expected a refusal, Roundcube said: ' + msg.text };
    // html: the message element's markup, to prove the server's text was escaped
    return { ok: true, kind: msg.kind, message: msg.text, html: msg.html, rows: await rows(frame) };
  },
};

(async () => {
  if (!steps[step]) { result({ ok: false, error: 'unknown step ' + step }); process.exit(2); }
  const browser = await chromium.launch({
    executablePath: p.chromium || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  let out;
  try {
    out = await steps[step](page);
  } catch (e) {
    out = { ok: false, error: String(e && e.message || e).split('\n').slice(0, 6).join('\n') };
  }
  if (!out.ok && p.shots) {
    const shot = path.join(p.shots, `failed-${step}-${Date.now()}.png`);
    try { await page.screenshot({ path: shot, fullPage: true }); out.screenshot = shot; } catch (e) { /* page gone */ }
  }
  result(out);
  await browser.close();
})().catch(e => { result({ ok: false, error: 'driver: ' + e }); process.exit(1); });
