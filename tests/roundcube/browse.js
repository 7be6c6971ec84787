#!/usr/bin/env node
// A small scripted browser for tests/roundcube/test_roundcube_selfservice.py: logs in to
// Roundcube (elastic skin) in headless Debian chromium (playwright-core) and runs a list
// of actions, so the Python test keeps the story and the assertions.
//
//   node browse.js '<json>'   {url, user, password, chromium, shots, actions: [...]}
//
// Actions ({op, ...}):
//   goto {path}                   open url + path (after login; "login: false" skips it)
//   fill {sel, value}             type into a field
//   type {sel, value}             type key by key, then Tab (widgets that listen to keys)
//   select {sel, value}           choose an option by value
//   select_label {sel, value}     choose an option by its text
//   click {sel, nav?}             click (nav: wait for the page load it starts)
//   submit {sel}                  click a submit button and wait for the next page
//   text {sel, key}               innerText of the first match into result[key]
//   texts {sel, key}              innerText of every match into result[key] (list)
//   options {sel, key}            option texts of a <select> into result[key]
//   message {key}                 the next confirmation/error/warning into result[key]
//   fetch {path, body, contentType, key}  a POST from the page's origin; status into result[key]
//   shot {path}                   full-page screenshot
//   wait {sel, state?}            wait for an element
// Prints one line "RESULT {json}": {ok, error, screenshot, ...collected keys}.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const p = JSON.parse(process.argv[2] || '{}');
const TIMEOUT = 20000;

function result(obj) {
  process.stdout.write('RESULT ' + JSON.stringify(obj) + '\n');
}

async function login(page) {
  await page.goto(p.url + '/?_task=login');
  await page.fill('#rcmloginuser', p.user);
  await page.fill('#rcmloginpwd', p.password);
  await Promise.all([page.waitForURL(/_task=mail/), page.click('#rcmloginsubmit')]);
}

async function message(page) {
  const sel = '#messagestack div.confirmation, #messagestack div.error, #messagestack div.warning';
  const el = page.locator(sel).last();
  await el.waitFor({ state: 'visible', timeout: TIMEOUT });
  const cls = await el.getAttribute('class');
  return { text: (await el.innerText()).trim(),
           kind: /error/.test(cls) ? 'error' : /warning/.test(cls) ? 'warning' : 'confirmation' };
}

(async () => {
  const out = { ok: false };
  let browser;
  let page;
  try {
    browser = await chromium.launch({ executablePath: p.chromium, headless: true,
                                      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 },
                                               locale: p.locale || 'en-US' });
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    if (p.login !== false) await login(page);
    for (const a of p.actions || []) {
      out.last = a.op + ' ' + (a.sel || a.path || '');
      switch (a.op) {
        case 'goto': await page.goto(p.url + a.path); break;
        case 'fill': await page.fill(a.sel, a.value); break;
        case 'type':
          await page.locator(a.sel).first().pressSequentially(a.value);
          await page.locator(a.sel).first().press('Tab');
          break;
        case 'select': await page.selectOption(a.sel, a.value); break;
        case 'select_label': await page.selectOption(a.sel, { label: a.value }); break;
        case 'click':
          if (a.nav) await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.click(a.sel)]);
          else await page.click(a.sel);
          break;
        case 'submit':
          await Promise.all([page.waitForNavigation(), page.locator(a.sel).first().click()]);
          break;
        case 'text': out[a.key] = (await page.locator(a.sel).first().innerText()).trim(); break;
        case 'texts': out[a.key] = (await page.locator(a.sel).allInnerTexts()).map((t) => t.trim()); break;
        case 'options':
          out[a.key] = await page.locator(a.sel + ' option').allInnerTexts();
          break;
        case 'message': out[a.key] = await message(page); break;
        case 'fetch':
          // a request the page did not build itself (what a cross-site form can send)
          out[a.key] = await page.evaluate(async ([url, body, type]) => {
            const r = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': type },
                                         credentials: 'include' });
            return r.status;
          }, [p.url + a.path, a.body, a.contentType || 'text/plain']);
          break;
        case 'shot': await page.screenshot({ path: a.path, fullPage: false }); break;
        case 'wait': await page.locator(a.sel).first().waitFor({ state: a.state || 'visible' }); break;
        default: throw new Error('unknown action ' + a.op);
      }
    }
    out.ok = true;
  } catch (e) {
    out.error = String(e && e.message || e).slice(0, 2000);
    if (page && p.shots) {
      out.screenshot = path.join(p.shots, 'failed-' + Date.now() + '.png');
      try { await page.screenshot({ path: out.screenshot, fullPage: true }); } catch (_) { /* ignore */ }
    }
  } finally {
    if (browser) await browser.close();
  }
  result(out);
})();
