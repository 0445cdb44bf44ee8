// Every value from the API goes into the page through textContent, never innerHTML:
// names come from scraped posts.
const $ = (id) => document.getElementById(id);
let cursor = null;
// The bot's four languages. `?lang=` picks one, else the browser's first
// that we have; Arabic turns the page right to left.
const TEXTS = {
  en: { prices: 'Prices', gold: 'Gold board', series: 'Series', jeweler: 'Jeweler', spot: 'Spot per gram', deal: 'Deal', outlier: 'outlier', stats: '{count} listings · min {min} · median {median} · max {max} {currency}', nostats: 'No prices in this window.', nogold: 'No jeweler quotes yet.', fine: 'fineness', sub: 'Latest prices from every source.', search: 'Search', source: 'Source', all: 'all sources', more: 'More', loading: 'Loading…', item: 'Item', price: 'Price', seen: 'Seen', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Searching…', nothing: 'Nothing matches “{q}”.', empty: 'No prices yet: the scrapers fill this in on their schedule.', in_stock: 'in stock, no price', out_of_stock: 'out of stock', unknown: 'no price', one: 'Only one price so far.', none: 'No price seen yet.', caption: 'min {min} · max {max} · {n} prices' },
  ru: { prices: 'Цены', gold: 'Золото', series: 'Серии', jeweler: 'Ювелир', spot: 'Спот за грамм', deal: 'Выгода', outlier: 'выброс', stats: 'объявлений: {count} · мин {min} · медиана {median} · макс {max} {currency}', nostats: 'В этом окне цен нет.', nogold: 'Котировок ювелиров пока нет.', fine: 'проба', sub: 'Последние цены из всех источников.', search: 'Поиск', source: 'Источник', all: 'все источники', more: 'Ещё', loading: 'Загрузка…', item: 'Товар', price: 'Цена', seen: 'Когда', placeholder: 'darkside, rtx 4070, 585…', searching: 'Ищу…', nothing: 'Ничего не найдено по «{q}».', empty: 'Цен пока нет: источники читаются по расписанию.', in_stock: 'в наличии, без цены', out_of_stock: 'нет в наличии', unknown: 'без цены', one: 'Пока только одна цена.', none: 'Цены ещё не было.', caption: 'мин {min} · макс {max} · цен: {n}' },
  fr: { prices: 'Prix', gold: 'Or', series: 'Séries', jeweler: 'Bijoutier', spot: 'Cours au gramme', deal: 'Affaire', outlier: 'aberrant', stats: '{count} annonces · min {min} · médiane {median} · max {max} {currency}', nostats: 'Aucun prix sur cette période.', nogold: 'Pas encore de cotes de bijoutiers.', fine: 'titre', sub: 'Les derniers prix de toutes les sources.', search: 'Chercher', source: 'Source', all: 'toutes les sources', more: 'Plus', loading: 'Chargement…', item: 'Article', price: 'Prix', seen: 'Vu', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Recherche…', nothing: 'Rien ne correspond à « {q} ».', empty: 'Pas encore de prix : les sources sont lues selon leur horaire.', in_stock: 'en stock, sans prix', out_of_stock: 'en rupture', unknown: 'sans prix', one: 'Un seul prix pour l’instant.', none: 'Aucun prix vu.', caption: 'min {min} · max {max} · {n} prix' },
  ar: { prices: 'الأسعار', gold: 'لوحة الذهب', series: 'السلاسل', jeweler: 'الصائغ', spot: 'السعر العالمي للغرام', deal: 'الصفقة', outlier: 'شاذ', stats: '{count} إعلانات · الأدنى {min} · الوسيط {median} · الأعلى {max} {currency}', nostats: 'لا أسعار في هذه الفترة.', nogold: 'لا أسعار صاغة بعد.', fine: 'العيار', sub: 'أحدث الأسعار من كل المصادر.', search: 'بحث', source: 'المصدر', all: 'كل المصادر', more: 'المزيد', loading: 'جارٍ التحميل…', item: 'المنتج', price: 'السعر', seen: 'شوهد', placeholder: 'ذهب 18، darkside…', searching: 'جارٍ البحث…', nothing: 'لا شيء يطابق «{q}».', empty: 'لا أسعار بعد: تُقرأ المصادر حسب جدولها.', in_stock: 'متوفر، بلا سعر', out_of_stock: 'غير متوفر', unknown: 'بلا سعر', one: 'سعر واحد حتى الآن.', none: 'لم يُرَ أي سعر بعد.', caption: 'الأدنى {min} · الأعلى {max} · {n} أسعار' },
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
// An item's price history: uPlot over time (drag to zoom, the buttons pick
// a range), gaps where the source showed no price, and for an item in a
// series the series' min–max band and median over the same window.
const RANGES = [['7d', 7], ['30d', 30], ['1y', 365], ['all', 0]];
async function showHistory(p, days) {
  const chart = $('chart'); chart.textContent = '';
  const from = days ? new Date(Date.now() - days * 86400e3).toISOString() : null;
  const params = new URLSearchParams({ order: 'asc', limit: '1000' });
  if (from) params.set('from', from);
  let observations;
  try { ({ observations } = await api('/api/items/' + encodeURIComponent(p.item_id) + '/history?' + params)); }
  catch (e) { $('status').textContent = e.message; $('status').className = 'err'; return; }
  const priced = observations.filter((o) => o.price);
  const currency = priced.length ? priced[priced.length - 1].price.currency : null;
  const h = document.createElement('h3'); h.dir = 'auto'; h.textContent = p.name + (currency ? ' (' + currency + ')' : ''); chart.append(h);
  chart.scrollIntoView({ block: 'nearest' });
  const bar = document.createElement('div'); bar.className = 'ranges';
  for (const [label, d] of RANGES) {
    const b = document.createElement('button'); b.textContent = label; b.className = (days || 0) === d ? 'on' : '';
    b.onclick = () => showHistory(p, d); bar.append(b);
  }
  chart.append(bar);
  // Other currencies and missing prices are gaps (null), not zeros.
  const xs = observations.map((o) => Date.parse(o.observed_at) / 1000);
  const ys = observations.map((o) => (o.price && o.price.currency === currency ? Number(o.price.amount) : null));
  const count = ys.filter((y) => y !== null).length;
  if (count < 2) { const m = document.createElement('p'); m.className = 'muted'; m.textContent = count ? t('one') : t('none'); chart.append(m); return; }
  const data = [xs, ys];
  const series = [{}, { label: t('price'), stroke: '#2a7ae2', width: 2, spanGaps: false }];
  const bands = [];
  if (p.series) {
    try {
      const win = days ? (days >= 365 ? '1y' : days + 'd') : '1y';
      const { stats } = await api('/api/series/' + encodeURIComponent(p.series) + '/stats?window=' + win);
      if (stats && stats.currency === currency) {
        const flat = (v) => xs.map(() => Number(v));
        data.push(flat(stats.max), flat(stats.median), flat(stats.min));
        series.push({ label: 'max', stroke: '#8886', width: 1 }, { label: 'median', stroke: '#888', dash: [4, 4], width: 1 }, { label: 'min', stroke: '#8886', width: 1 });
        bands.push({ series: [2, 4], fill: '#8882' });
      }
    } catch (_) { /* the item's own line is still worth showing */ }
  }
  const plot = document.createElement('div'); plot.className = 'plot'; chart.append(plot);
  new uPlot({ width: Math.min(plot.clientWidth || 900, 900), height: 260, series, bands, scales: { x: { time: true } }, cursor: { drag: { x: true, y: false } } }, data, plot);
  const vals = ys.filter((y) => y !== null);
  const cap = document.createElement('p'); cap.className = 'muted';
  cap.textContent = t('caption', { min: Math.min(...vals), max: Math.max(...vals), n: vals.length }); chart.append(cap);
}
// Views: prices (above), the jeweler board, a series with its deals.
const VIEWS = ['prices', 'gold', 'series'];
function showView(v) {
  for (const x of VIEWS) { $('view-' + x).hidden = x !== v; $('nav-' + x).classList.toggle('on', x === v); }
  if (v === 'gold') loadGold();
  if (v === 'series') loadSeriesList();
}
for (const v of VIEWS) $('nav-' + v).onclick = () => showView(v);
function th(text) { const e = document.createElement('th'); e.textContent = text; return e; }
function money(m) { return m ? m.amount + ' ' + m.currency : '—'; }
async function loadGold() {
  const table = $('gold'); table.textContent = ''; $('gold-note').textContent = t('loading');
  try {
    const board = await api('/api/gold');
    $('gold-note').textContent = board.jewelers.length ? '' : t('nogold');
    const head = document.createElement('tr'); head.append(th(t('jeweler')));
    for (const f of board.fineness) head.append(th(f + ' (' + t('fine') + ')'));
    table.append(head);
    for (const j of board.jewelers) {
      const tr = document.createElement('tr'); const name = cell(j.name); name.dir = 'auto'; tr.append(name);
      for (const f of board.fineness) {
        const q = j.quotes.find((x) => x.fineness === f);
        tr.append(cell(q ? priceText(q.item) : '—', 'num'));
      }
      table.append(tr);
    }
    if (board.spot) {
      const tr = document.createElement('tr'); tr.className = 'spot'; tr.append(cell(t('spot')));
      for (const f of board.fineness) { const s = board.spot.per_gram.find((x) => x.fineness === f); tr.append(cell(s ? money(s.price) : '—', 'num muted')); }
      table.append(tr);
    }
  } catch (e) { $('gold-note').textContent = e.message; $('gold-note').className = 'err'; }
}
async function loadSeriesList() {
  const pick = $('series-pick');
  if (pick.options.length) return loadSeries(pick.value);
  try {
    const { series } = await api('/api/series');
    for (const s of series) { const o = document.createElement('option'); o.value = s.series; o.textContent = s.series + ' (' + s.items + ')'; pick.append(o); }
    pick.onchange = () => loadSeries(pick.value);
    if (series.length) loadSeries(series[0].series); else $('series-stats').textContent = t('nostats');
  } catch (e) { $('series-stats').textContent = e.message; $('series-stats').className = 'err'; }
}
async function loadSeries(id) {
  const table = $('series-items'); table.textContent = ''; $('series-stats').textContent = t('loading'); $('series-stats').className = 'muted';
  try {
    const s = await api('/api/series/' + encodeURIComponent(id) + '?window=30d');
    $('series-stats').textContent = s.stats ? t('stats', s.stats) : t('nostats');
    const head = document.createElement('tr'); head.append(th(t('item')), th(t('price')), th(t('deal')));
    table.append(head);
    for (const it of s.items) {
      const tr = row(it);
      tr.onclick = () => { showView('prices'); showHistory(it); };
      const d = it.deal;
      const dealCell = cell(d ? (d.outlier ? t('outlier') : d.score + ' · ' + d.vs_median_percent + '%') : '—', 'num');
      if (d && d.outlier) tr.classList.add('outlier');
      if (d && d.score >= 60) dealCell.classList.add('good');
      tr.replaceChildren(tr.children[0], tr.children[2], dealCell);
      table.append(tr);
    }
  } catch (e) { $('series-stats').textContent = e.message; $('series-stats').className = 'err'; }
}
$('source').onchange = () => ($('q').value.trim() ? runSearch() : loadPrices(true));
$('more').onclick = () => loadPrices(false);
loadSources().catch(() => {}).finally(() => loadPrices(true));
