// Every value from the API goes into the page through textContent, never innerHTML:
// names come from scraped posts.
const $ = (id) => document.getElementById(id);
let cursor = null;
// The bot's four languages. `?lang=` picks one, else the browser's first
// that we have; Arabic turns the page right to left.
const TEXTS = {
  en: { sub: 'Latest prices from every source.', search: 'Search', source: 'Source', all: 'all sources', more: 'More', loading: 'Loading…', item: 'Item', price: 'Price', seen: 'Seen', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Searching…', nothing: 'Nothing matches “{q}”.', empty: 'No prices yet: the scrapers fill this in on their schedule.', in_stock: 'in stock, no price', out_of_stock: 'out of stock', unknown: 'no price', one: 'Only one price so far.', none: 'No price seen yet.', caption: 'min {min} · max {max} · {n} prices' },
  ru: { sub: 'Последние цены из всех источников.', search: 'Поиск', source: 'Источник', all: 'все источники', more: 'Ещё', loading: 'Загрузка…', item: 'Товар', price: 'Цена', seen: 'Когда', placeholder: 'darkside, rtx 4070, 585…', searching: 'Ищу…', nothing: 'Ничего не найдено по «{q}».', empty: 'Цен пока нет: источники читаются по расписанию.', in_stock: 'в наличии, без цены', out_of_stock: 'нет в наличии', unknown: 'без цены', one: 'Пока только одна цена.', none: 'Цены ещё не было.', caption: 'мин {min} · макс {max} · цен: {n}' },
  fr: { sub: 'Les derniers prix de toutes les sources.', search: 'Chercher', source: 'Source', all: 'toutes les sources', more: 'Plus', loading: 'Chargement…', item: 'Article', price: 'Prix', seen: 'Vu', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Recherche…', nothing: 'Rien ne correspond à « {q} ».', empty: 'Pas encore de prix : les sources sont lues selon leur horaire.', in_stock: 'en stock, sans prix', out_of_stock: 'en rupture', unknown: 'sans prix', one: 'Un seul prix pour l’instant.', none: 'Aucun prix vu.', caption: 'min {min} · max {max} · {n} prix' },
  ar: { sub: 'أحدث الأسعار من كل المصادر.', search: 'بحث', source: 'المصدر', all: 'كل المصادر', more: 'المزيد', loading: 'جارٍ التحميل…', item: 'المنتج', price: 'السعر', seen: 'شوهد', placeholder: 'ذهب 18، darkside…', searching: 'جارٍ البحث…', nothing: 'لا شيء يطابق «{q}».', empty: 'لا أسعار بعد: تُقرأ المصادر حسب جدولها.', in_stock: 'متوفر، بلا سعر', out_of_stock: 'غير متوفر', unknown: 'بلا سعر', one: 'سعر واحد حتى الآن.', none: 'لم يُرَ أي سعر بعد.', caption: 'الأدنى {min} · الأعلى {max} · {n} أسعار' },
};
const LANG = (() => {
  const asked = new URLSearchParams(location.search).get('lang');
  const wanted = [asked, ...(navigator.languages || [navigator.language])].filter(Boolean).map((l) => l.slice(0, 2).toLowerCase());
  return wanted.find((l) => l in TEXTS) || 'en';
})();
function t(key, vars) {
  let s = TEXTS[LANG][key] || TEXTS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
  return s;
}
document.documentElement.lang = LANG;
document.documentElement.dir = LANG === 'ar' ? 'rtl' : 'ltr';
for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
$('q').placeholder = t('placeholder');
async function api(path) {
  const r = await fetch(path);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  return body;
}
// A price, or what the source said instead (the API sends `price: null`
// for an item shown without one: out of stock, price on request).
function priceText(p) { return p.price ? p.price.amount + ' ' + p.price.currency : t(p.availability in TEXTS.en ? p.availability : 'unknown'); }
function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
async function loadSources() {
  const { sources } = await api('/api/sources');
  for (const s of sources) { const o = document.createElement('option'); o.value = s.id; o.textContent = s.name; $('source').append(o); }
}
function row(p) {
  const tr = document.createElement('tr'); tr.className = 'item';
  const name = cell(p.name); name.dir = 'auto'; // Arabic and Hebrew names read right to left
  if (p.brand) { const b = document.createElement('span'); b.className = 'muted brand'; b.textContent = p.brand; name.append(' ', b); }
  tr.append(name, cell(p.source_id, 'muted'), cell(priceText(p), p.price ? 'num' : 'num muted'), cell(new Date(p.observed_at).toLocaleString(LANG), 'muted'));
  tr.onclick = () => showHistory(p);
  return tr;
}
// Search as you type: the API's ranked, typo-tolerant search; an empty box
// goes back to the paged list. Only the newest answer is shown.
let searchSeq = 0, searchTimer = null;
async function runSearch() {
  const q = $('q').value.trim();
  if (!q) { loadPrices(true); return; }
  const seq = ++searchSeq;
  const params = new URLSearchParams({ q, limit: '50' });
  if ($('source').value) params.set('source', $('source').value);
  $('status').textContent = t('searching'); $('status').className = 'muted';
  try {
    const { results } = await api('/api/search?' + params);
    if (seq !== searchSeq) return;
    $('rows').textContent = ''; $('chart').textContent = ''; $('more').hidden = true;
    for (const p of results) $('rows').append(row(p));
    $('table').hidden = results.length === 0;
    $('status').textContent = results.length ? '' : t('nothing', { q });
  } catch (e) { if (seq === searchSeq) { $('status').textContent = e.message; $('status').className = 'err'; } }
}
$('q').oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 200); };
async function loadPrices(reset) {
  if (reset) { cursor = null; $('rows').textContent = ''; $('chart').textContent = ''; }
  const q = new URLSearchParams({ limit: '50' });
  if ($('source').value) q.set('source', $('source').value);
  if (cursor) q.set('cursor', cursor);
  try {
    const { prices, next_cursor } = await api('/api/prices?' + q);
    for (const p of prices) $('rows').append(row(p));
    cursor = next_cursor; $('more').hidden = !cursor;
    $('table').hidden = $('rows').children.length === 0;
    $('status').textContent = $('rows').children.length ? '' : t('empty');
    $('status').className = 'muted';
  } catch (e) { $('status').textContent = e.message; $('status').className = 'err'; }
}
async function showHistory(p) {
  let observations;
  try { ({ observations } = await api('/api/items/' + encodeURIComponent(p.item_id) + '/history?order=desc&limit=200')); }
  catch (e) { $('chart').textContent = ''; $('status').textContent = e.message; $('status').className = 'err'; return; }
  // Observations without a price (out of stock) are gaps, not zeros; a
  // currency change starts a new line, so only the latest currency is drawn.
  const priced = observations.reverse().filter(o => o.price);
  const currency = priced.length ? priced[priced.length - 1].price.currency : null;
  const pts = priced.filter(o => o.price.currency === currency).map(o => Number(o.price.amount));
  const chart = $('chart'); chart.textContent = '';
  const h = document.createElement('h3'); h.textContent = p.name + (currency ? ' (' + currency + ')' : ''); chart.append(h);
  if (pts.length < 2) { const m = document.createElement('p'); m.className = 'muted'; m.textContent = pts.length ? t('one') : t('none'); chart.append(m); return; }
  const min = Math.min(...pts), max = Math.max(...pts), span = (max - min) || 1;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 100 40'); svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', pts.map((v, i) => (i * 100 / (pts.length - 1)) + ',' + (38 - (v - min) * 36 / span)).join(' '));
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(line); chart.append(svg);
  const cap = document.createElement('p'); cap.className = 'muted'; cap.textContent = t('caption', { min, max, n: pts.length }); chart.append(cap);
}
$('source').onchange = () => ($('q').value.trim() ? runSearch() : loadPrices(true));
$('more').onclick = () => loadPrices(false);
loadSources().catch(() => {}).finally(() => loadPrices(true));
