// The editors' gallery in the browser: a live character count for captions.
// X counts the way X does (twitter-text's weighted length: CJK 2, any URL 23),
// bundled from the same package the server and the cards stage use. Pages work
// without this script; it only adds the count while typing.
import parseTweet from 'twitter-text/dist/esm/parseTweet.js';

function count(platform, text) {
  if (platform === 'x') return parseTweet(text).weightedLength;
  if (platform === 'weibo') {
    // Weibo counts two ASCII characters as one (as src/cards/captions.ts does).
    let ascii = 0;
    let other = 0;
    for (const c of text) c.charCodeAt(0) < 0x80 ? ascii++ : other++;
    return other + Math.ceil(ascii / 2);
  }
  return [...text].length;
}

function wire(area) {
  const out = area.form?.querySelector('output.count span');
  if (!out) return;
  const limit = Number(area.dataset.limit);
  const update = () => {
    const n = count(area.dataset.platform, area.value);
    out.textContent = String(n);
    out.parentElement.classList.toggle('over', n > limit);
  };
  area.addEventListener('input', update);
  update();
}

function init() {
  for (const area of document.querySelectorAll('textarea[data-platform]')) wire(area);
  // Filters apply on change; the button stays for keyboard and no-JS use.
  for (const sel of document.querySelectorAll('form.filters select')) {
    sel.addEventListener('change', () => sel.form.requestSubmit());
  }
}

window.broadsheetCount = count;
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
