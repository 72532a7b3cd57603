"""The page-side halves of grid_ui_bench's measurements: each a JavaScript function run by page.evaluate.

Clocks: performance.now() counts from each page's own time origin, so a time
taken in one page is compared with one taken in another as
performance.timeOrigin + performance.now() (ms since the epoch, sub-ms, the
same system clock: both renderers run on this machine).
"""

# Marks, in page time (ms since navigation start): the first row in #grid and the first open editor.
MARKS_INIT = """(() => {
  const marks = window.__gridUiBench = {};
  new MutationObserver(() => {
    if (!marks.rows && document.querySelector('#grid .tabulator-row')) marks.rows = performance.now();
    if (!marks.editor && document.querySelector('#grid .cell-editor')) marks.editor = performance.now();
  }).observe(document, { subtree: true, childList: true });
})();"""

# Every row counted and the grid no longer busy (the count with or without a thousands separator).
ALL_ROWS = """(n) => {
  const text = document.querySelector('.count')?.textContent || '';
  return (text.startsWith(n + ' ') || text.startsWith(n.toLocaleString('en-US') + ' '))
    && document.querySelector('#grid')?.getAttribute('aria-busy') !== 'true';
}"""

# In the watching page: start watching row 1's `field` for `value`; window.__seen resolves to the
# epoch ms at which the text changed (a MutationObserver: before the next paint), or null after 20 s.
WATCH_CELL = """([field, value]) => {
  const grid = document.querySelector('#grid');
  const cellOf = () => {
    for (const row of grid.querySelectorAll('.tabulator-table > .tabulator-row')) {
      if (row.querySelector('.row-number')?.textContent === '1') return row.querySelector(`.tabulator-cell[tabulator-field="${field}"]`);
    }
    return null;
  };
  window.__seen = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (cellOf()?.textContent === value) { observer.disconnect(); resolve(performance.timeOrigin + performance.now()); }
    });
    observer.observe(grid, { childList: true, characterData: true, subtree: true });
    setTimeout(() => { observer.disconnect(); resolve(null); }, 20000);
  });
}"""

SEEN = "() => window.__seen"

# In the peer's page: the set_cell POST, timed from just before fetch() (epoch ms) to its answer.
PEER_SET_CELL = """async ([token, body]) => {
  const t0 = performance.timeOrigin + performance.now();
  const response = await fetch('/api/fundraising/ops', { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  const answered = performance.timeOrigin + performance.now();
  const doc = await response.json();
  return { status: response.status, version: doc.data?.version ?? doc.current_version ?? doc.error?.current_version,
           t0, post_ms: answered - t0 };
}"""

JUMP = """async (total) => {
  const holder = document.querySelector('#grid .tabulator-tableholder');
  const t0 = performance.now();
  holder.scrollTop = holder.scrollHeight;
  return new Promise((resolve) => {
    const check = () => {
      const nums = holder.querySelectorAll('.tabulator-row .row-number');
      if ([...nums].some((n) => n.textContent === String(total))) resolve(performance.now() - t0);
      else if (performance.now() - t0 > 10000) resolve(null);
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""

SMOOTH = """async ([frames, step]) => {
  const holder = document.querySelector('#grid .tabulator-tableholder');
  holder.scrollTop = 0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = holder.getBoundingClientRect();
  const x = box.left + Math.min(300, box.width / 2), y = box.top + box.height / 2;
  const gaps = [];
  let blank = 0, last = null;
  await new Promise((resolve) => {
    let n = 0;
    const tick = (now) => {
      if (last !== null) gaps.push(now - last);
      last = now;
      if (!document.elementFromPoint(x, y)?.closest('.tabulator-row')) blank += 1;
      if (++n > frames) return resolve();
      holder.scrollTop += step;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  gaps.sort((a, b) => a - b);
  const pick = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
  return { p50: pick(0.5), p95: pick(0.95), max: gaps[gaps.length - 1], blank, scrolled: holder.scrollTop };
}"""

RESOURCES = """() => {
  const pick = (part) => performance.getEntriesByType('resource').filter((e) => e.name.includes(part));
  const state = pick('/api/fundraising/state');
  const rows = pick('/api/fundraising/rows');
  const me = pick('/api/auth/me');
  const marks = window.__gridUiBench || {};
  return { state_ms: state.length ? state[0].responseEnd - state[0].startTime : 0,
           rows_ms: rows.length ? Math.max(...rows.map((e) => e.responseEnd)) - Math.min(...rows.map((e) => e.startTime)) : 0,
           // page time: the app's first request (its modules are loaded), all grid data in, rows drawn, editor open
           t_me: me.length ? me[0].startTime : 0,
           t_data: Math.max(...[...state, ...rows].map((e) => e.responseEnd), 0),
           t_rows: marks.rows || 0, t_editor: marks.editor || 0 };
}"""

# -- large ranges (grid_ui_large) ----------------------------------------------------------------

# Scroll so that row `n` (1-based) and the column `field` are drawn; resolves once row n's cell is in
# the DOM. Rows are not exactly 36 px (borders): each frame moves by the distance from the rows drawn.
SHOW_CELL = """async ([n, field]) => {
  const holder = document.querySelector('#grid .tabulator-tableholder');
  const header = document.querySelector(`#grid .tabulator-col[tabulator-field="${field}"]`);
  if (header && !header.classList.contains('tabulator-frozen')) holder.scrollLeft = Math.max(0, header.offsetLeft - 400);
  holder.scrollTop = Math.max(0, (n - 1) * 36 - holder.clientHeight / 3);
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 300; i += 1) {
    await frame();
    const rows = [...holder.querySelectorAll('.tabulator-table > .tabulator-row')];
    for (const row of rows) {
      if (row.querySelector('.row-number')?.textContent === String(n) && row.querySelector(`.tabulator-cell[tabulator-field="${field}"]`)) return true;
    }
    const nums = rows.map((r) => Number(r.querySelector('.row-number')?.textContent)).filter((x) => x > 0);
    if (nums.length && (n < Math.min(...nums) || n > Math.max(...nums))) {
      const mid = (Math.min(...nums) + Math.max(...nums)) / 2;
      holder.scrollTop += (n - mid) * (rows[0].offsetHeight || 36);
    }
  }
  return false;
}"""

# The data columns in view order (fields and whether frozen), read from the header.
HEADER_FIELDS = """() => [...document.querySelectorAll('#grid .tabulator-header .tabulator-col[tabulator-field]')]
  .filter((c) => c.offsetParent !== null || c.style.display !== 'none')
  .map((c) => ({ field: c.getAttribute('tabulator-field'), frozen: c.classList.contains('tabulator-frozen'),
                 name: c.querySelector('.tabulator-col-title')?.textContent?.trim() || '' }))"""

FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"

# Hear the next copy: the window's listener runs after the grid's (on the document), so it reads what
# the grid wrote; the keydown that asked for it is marked in the capture phase, before the grid sees it.
# A windowed grid (frontend/widgets/rowwindow.js) copying rows it has not fetched yet writes nothing in
# the event and calls navigator.clipboard.writeText once they are in: that call is heard instead (its
# text kept, then passed on), so "copy ms" is then until the text was ready.
COPY_WATCH = """() => {
  window.__copy = null;
  const down = () => { window.__copyKeyAt = performance.now(); };
  window.addEventListener('keydown', down, { capture: true, once: true });
  window.addEventListener('copy', (e) => {
    const text = e.clipboardData.getData('text/plain');
    if (text) window.__copy = { ms: performance.now() - window.__copyKeyAt, text };
  }, { once: true });
  if (!window.__writeText) {
    window.__writeText = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => {
      window.__copy = { ms: performance.now() - window.__copyKeyAt, text };
      return window.__writeText(text).catch(() => {});
    };
  }
}"""

COPIED = """() => window.__copy && { ms: window.__copy.ms, chars: window.__copy.text.length,
  lines: window.__copy.text ? window.__copy.text.split('\\r\\n').length : 0,
  fields: window.__copy.text ? window.__copy.text.split('\\r\\n')[0].split('\\t').length : 0 }"""

COPIED_TEXT = "() => window.__copy?.text ?? null"

# The copied text pasted where the focus is (the grid's selected cell), as a paste event carries it;
# the grid's handler runs inside dispatchEvent. Resolves after the next two frames.
PASTE = """async (text) => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  const t0 = performance.now();
  (document.activeElement || document.body).dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  const handled = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return { handled_ms: handled, frame_ms: performance.now() - t0 };
}"""

# Ctrl+D's keydown marked (capture phase) so that its handling is timed in page time: see KEY_DONE.
KEY_WATCH = """() => { window.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, { capture: true, once: true }); }"""
KEY_DONE = """async () => { await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - window.__keyAt; }"""

# Until the save line says every change is saved (polled each 50 ms): ms since `since` (page time), or null.
SAVED = """async ([since, timeout]) => {
  const status = () => document.querySelector('.save-status')?.dataset.saveStatus;
  for (;;) {
    if (status() === 'saved') return performance.now() - since;
    if (status() === 'error' || performance.now() - since > timeout) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
}"""

NOW = "() => performance.now()"
STATUS = "() => document.querySelector('.save-status')?.textContent"

# What a failed run's page was doing: the save line, the grid's last notice (role=alert), where the
# focus was, whether an editor was open and the selected range's size.
FAILURE_STATE = """() => {
  const active = document.activeElement;
  const ranges = [...document.querySelectorAll('#grid .tabulator-range-selected')].length;
  return { status: document.querySelector('.save-status')?.textContent ?? null,
           notice: document.querySelector('#grid-page .notice, .notice')?.textContent ?? null,
           focus: active ? `${active.tagName.toLowerCase()}.${[...active.classList].join('.')}` : null,
           focus_in_grid: Boolean(document.querySelector('#grid')?.contains(active)),
           editing: document.querySelectorAll('#grid .tabulator-editing').length,
           range_cells_drawn: ranges };
}"""
