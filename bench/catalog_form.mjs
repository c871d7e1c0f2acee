// The web UI's request form at scale (issue 16 item 5; docs/PERFORMANCE.md "Catalog and explain
// at scale"): times src/api/ui/request.js in Debian's Chromium on GET /v1/catalog answers that
// bench/catalog_bench.cc wrote (`catalog_bench --dump DIR`): from mounting the form to its
// permission-set list being filled (the catalog fetched over loopback, parsed and the form
// built), the fetch and JSON.parse alone, and choosing another account. Prints one JSON line.
//
//   node bench/catalog_form.mjs DIR [RUNS]
//
// Needs tests/ui/node_modules (playwright-core; scripts/setup.sh) and /usr/bin/chromium. Serves
// the UI's files and the answers itself on 127.0.0.1, port 0.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from '../tests/ui/support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ui = join(here, '..', 'src', 'api', 'ui');
const dir = process.argv[2];
const runs = Number(process.argv[3] || 5);
if (!dir) {
  console.error('usage: node bench/catalog_form.mjs DIR [RUNS]');
  process.exit(2);
}

const page = `<!doctype html><meta charset="utf-8"><main id="m"></main>
<script type="module">
import { mountRequest } from '/ui/request.js';
window.mountForm = () => new Promise((resolve) => {
  const main = document.getElementById('m');
  main.replaceChildren();
  const t0 = performance.now();
  mountRequest(main, { announce() {} });
  const filled = () => main.querySelector('select[name=permission_set] option');
  const tick = () => (filled() ? resolve(performance.now() - t0) : setTimeout(tick, 1));
  tick();
});
window.chooseLastAccount = () => {
  const s = document.querySelector('select[name=account]');
  s.value = s.options[s.options.length - 1].value;
  const t0 = performance.now();
  s.dispatchEvent(new Event('change'));
  return performance.now() - t0;
};
window.fetchParse = async () => {
  const t0 = performance.now();
  const items = JSON.parse(await (await fetch('/v1/catalog?view=compact')).text()).items;
  return items.length >= 0 ? performance.now() - t0 : 0;
};
window.counts = () => ({
  accounts: document.querySelector('select[name=account]').options.length,
  permission_sets: document.querySelector('select[name=permission_set]').options.length,
});
</script>`;

let body = '';
let compactBody = '';  // what the form asks for: GET /v1/catalog?view=compact
const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(page);
  } else if (path === '/v1/catalog') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(req.url.includes('view=compact') ? compactBody : body);
  } else if (path.startsWith('/ui/') && !path.includes('..')) {
    try {
      const type = path.endsWith('.js') ? 'text/javascript' : 'text/plain';
      res.writeHead(200, { 'Content-Type': type });
      res.end(readFileSync(join(ui, path.slice(4))));
    } catch {
      res.writeHead(404);
      res.end();
    }
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await launchChromium();
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const out = { scenario: 'catalog_form', runs };
try {
  for (const name of ['typical', 'everything']) {
    body = readFileSync(join(dir, `${name}.json`), 'utf8');
    compactBody = readFileSync(join(dir, `${name}-compact.json`), 'utf8');
    const p = await browser.newPage();
    await p.goto(url);
    await p.waitForFunction(() => typeof window.mountForm === 'function');
    const form = [];
    const change = [];
    const fetched = [];
    for (let i = 0; i < runs; i++) {
      fetched.push(await p.evaluate(() => window.fetchParse()));
      form.push(await p.evaluate(() => window.mountForm()));
      change.push(await p.evaluate(() => window.chooseLastAccount()));
    }
    const counts = await p.evaluate(() => window.counts());
    await p.close();
    out[name] = {
      entries: JSON.parse(body).items.length,
      json_bytes: Buffer.byteLength(body),
      compact_json_bytes: Buffer.byteLength(compactBody),
      accounts: counts.accounts,
      fetch_and_parse_ms: { median: Math.round(median(fetched)), max: Math.round(Math.max(...fetched)) },
      form_ready_ms: { median: Math.round(median(form)), max: Math.round(Math.max(...form)) },
      choose_account_ms: { median: Math.round(median(change)), max: Math.round(Math.max(...change)) },
    };
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(out));
