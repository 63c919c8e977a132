// node tests/browser/shoot.mjs FILE.html OUT.png [WIDTH] [HEIGHT] [HOVER-SELECTOR]
// A screenshot of a page for people to look at.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { launch } from './lib.mjs';

const [file, out, w = '1440', h = '900', hover, mode = 'full'] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: +w, height: +h } });
await page.goto(pathToFileURL(path.resolve(file)).href);
if (hover && hover !== '-') {
  const el = page.locator(hover).first();
  await el.scrollIntoViewIfNeeded();
  await el.hover();
}
await page.screenshot({ path: out, fullPage: !hover && mode === 'full' });
await browser.close();
