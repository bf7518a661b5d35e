// Browser test of the cpn network map against a running server.
//
//   CPN_URL=http://127.0.0.1:7878 CPN_TOKEN=... [CPN_SCREENSHOT=map.png] node test/map.test.mjs
//
// It checks that the page loads without console or page errors, that every site of
// GET /api/v1/map is drawn, that a submitted request shows its decision and highlights exactly
// the links of its path (also after the next refresh), that clicking a site shows its
// details, and that a delay measured along a reservation's path (reported as telemetry) is
// listed and shows its path when clicked. Exit code 0 on success, 1 with a message on failure.
import { chromium } from 'playwright-core';

const TIMEOUT = 30_000;
const url = (process.env.CPN_URL ?? '').replace(/\/+$/, '');
const token = process.env.CPN_TOKEN ?? '';
const screenshot = process.env.CPN_SCREENSHOT;

class Failure extends Error {}
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}

async function call(method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  check(res.ok, `${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function getMap() {
  let res;
  try {
    res = await fetch(`${url}/api/v1/map`, { headers: { Authorization: `Bearer ${token}` } });
  } catch (e) {
    throw new Failure(`cannot reach ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  check(res.ok, `GET /api/v1/map answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// An ingress router that hosts none of the service's sites, so the path has at least one link.
// Only routers that are up and on an up link qualify: an isolated router could reach nothing.
function pickIngress(map, service) {
  const hosts = new Set(service.sites.map((n) => map.sites.find((s) => s.name === n)?.router));
  const linked = new Set(map.links.filter((l) => l.up).flatMap((l) => [l.a, l.b]));
  const ok = (r) => r && r.up && linked.has(r.name) && !hosts.has(r.name);
  const firstSiteRouter = map.routers.find((r) => r.name === map.sites[0]?.router);
  return ok(firstSiteRouter) ? firstSiteRouter : map.routers.find(ok);
}

async function main() {
  check(url, 'set CPN_URL, e.g. CPN_URL=http://127.0.0.1:7878');
  check(token, 'set CPN_TOKEN to the server\'s API token');

  const map = await getMap();
  check(map.sites?.length > 0, 'the map has no sites to check');
  const service = map.services?.[0];
  check(service, 'the map has no services to route to');
  const ingress = pickIngress(map, service);
  check(ingress, `no up, linked router hosts none of the sites of ${service.name}`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

    // (1) The page loads, takes the token from the fragment and forgets it from the address bar.
    await page.goto(`${url}/#token=${encodeURIComponent(token)}`, { timeout: TIMEOUT });
    await page.locator('[data-site]').first().waitFor({ state: 'visible' });
    check(!page.url().includes('token='), `the token stayed in the address bar: ${page.url()}`);

    // (2) Every site is drawn and visible.
    for (const s of map.sites) {
      const el = page.locator(`[data-site="${s.name}"]`);
      check(await el.count() === 1, `site ${s.name}: expected one element, found ${await el.count()}`);
      await el.waitFor({ state: 'visible' });
    }
    console.log(`ok: ${map.sites.length} sites drawn`);

    // (3) Submit a request; the decision appears and its path is highlighted.
    await page.selectOption('#from', ingress.name);
    await page.selectOption('#service', service.name);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/route') && r.request().method() === 'POST'),
      page.click('#submit'),
    ]);
    const text = await response.text();
    check(response.ok(), `POST /api/v1/route answered ${response.status()}: ${text.slice(0, 300)}`);
    const decision = JSON.parse(text);
    check(decision.feasible, `decision for ${service.name} from ${ingress.name} is infeasible: ${decision.reason}`
      + `; candidates: ${JSON.stringify(decision.candidates)}`);
    await page.locator('#decision[data-state="feasible"]').waitFor();
    const panel = await page.locator('#decision').innerText();
    check(panel.includes(decision.site), `decision panel does not name the chosen site ${decision.site}: ${panel}`);

    const path = decision.path;
    check(path.length >= 2, `path from ${ingress.name} has no link: ${JSON.stringify(path)}`);
    const pair = (a, b) => [a, b].sort().join('|');
    const linkPair = new Map(map.links.map((l) => [l.name, pair(l.a, l.b)]));
    const checkHighlight = async (when, path = decision.path) => {
      const expected = new Set(path.slice(1).map((r, i) => pair(path[i], r)));
      const lit = await page.locator('[data-link].on-path').evaluateAll((els) => els.map((e) => e.dataset.link));
      check(lit.length === path.length - 1,
        `${when}: ${lit.length} links highlighted, expected ${path.length - 1} for path ${path.join(' → ')}: ${lit}`);
      for (const name of lit) {
        check(expected.has(linkPair.get(name)), `${when}: link ${name} is highlighted but not on path ${path.join(' → ')}`);
      }
    };
    await checkHighlight('after submit');
    // The next refresh must keep the user's path highlighted.
    await page.waitForTimeout(2500);
    await checkHighlight('after a refresh');
    console.log(`ok: decision ${decision.id} at ${decision.site}, path ${path.join(' → ')} highlighted`);

    // (4) Clicking a site shows its details.
    const site = map.sites.find((s) => s.name === decision.site) ?? map.sites[0];
    await page.locator(`[data-site="${site.name}"]`).click();
    await page.locator('#details[data-kind="site"]').waitFor();
    const details = await page.locator('#details').innerText();
    check(details.includes(site.name), `details panel does not name site ${site.name}: ${details}`);
    console.log(`ok: details of ${site.name} shown`);

    // (5) A delay measured along a reservation's path is listed; a click shows the path.
    const placed = await call('POST', '/api/v1/place', {
      requests: [{ id: 'measured', from: ingress.name, service: service.name, duration: '10 min' }],
    });
    const held = placed.results?.[0]?.reservations?.[0];
    check(held, `no reservation placed: ${JSON.stringify(placed)}`);
    await call('POST', '/api/v1/telemetry', {
      samples: [{ reservation: held.id, round_trip: '40 µs', forward: '21 µs', backward: '19 µs' }],
    });
    const item = page.locator(`#measured li[data-reservation="${held.id}"]`);
    await item.waitFor();
    const line = await item.innerText();
    check(line.includes('40 µs') && line.includes('21 µs') && line.includes(held.site),
      `measured delay of reservation ${held.id}: ${line}`);
    await item.click();
    if (held.path.length >= 2) await checkHighlight('measured path', held.path);
    console.log(`ok: measured delay of reservation ${held.id} listed: ${line}`);

    // (6) Screenshot for a human.
    if (screenshot) {
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot saved to ${screenshot}`);
    }
    check(errors.length === 0, `the page reported errors:\n  ${errors.join('\n  ')}`);
  } finally {
    await browser.close();
  }
  console.log('PASS');
}

main().catch((e) => {
  console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack ?? e}`);
  process.exit(1);
});
