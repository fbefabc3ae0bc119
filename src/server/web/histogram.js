// The log-volume histogram above the list: entries per interval over the
// view's time range, one bar per bucket, stacked by source (stderr in its own
// colour). The counts come from GET /api/histogram; live entries are added to
// their bucket as they arrive, and an entry past the last bucket makes the
// histogram ask again (at most every REFRESH_MS). Dragging across the bars
// narrows the view to the dragged range. Each bar carries its counts in data-
// attributes (data-stdout…), which is also what the tests read.

import { api, histogramQuery } from './api.js';
import { hasSelection } from './state.js';

const BUCKETS = 60;
const REFRESH_MS = 2000;
const STACK = ['system', 'output', 'stderr', 'stdout'];
const MIN_DRAG_PX = 4;
// Live counts are drawn at most this often.
const DRAW_INTERVAL_MS = 250;

export class Histogram {
  /** `element`: the histogram's container; `onRange(since, until)`: a drag chose a range (ISO strings). */
  constructor(element, onRange) {
    this.element = element;
    this.onRange = onRange;
    this.bars = element.querySelector('.bars');
    this.selection = element.querySelector('.selection');
    this.label = element.querySelector('.axis');
    this.data = null;
    this.view = null;
    this.generation = 0;
    this.refreshTimer = 0;
    this.drag = null;
    this.bars.addEventListener('pointerdown', (event) => this.startDrag(event));
    this.bars.addEventListener('pointermove', (event) => this.moveDrag(event));
    this.bars.addEventListener('pointerup', (event) => this.endDrag(event));
    this.bars.addEventListener('pointercancel', () => this.cancelDrag());
  }

  /** Shows the histogram of a view (hidden when it selects nothing). */
  async show(view) {
    this.view = view;
    const generation = ++this.generation;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = 0;
    this.element.hidden = !hasSelection(view) || view.sources.length === 0;
    if (this.element.hidden) return;
    const query = histogramQuery(view);
    let data;
    try {
      data = await api(`/api/histogram?${query}&buckets=${BUCKETS}`);
    } catch (error) {
      if (generation !== this.generation) return;
      this.data = null;
      this.bars.replaceChildren();
      this.label.textContent = `no histogram: ${error.message}`;
      return;
    }
    if (generation !== this.generation) return;
    this.element.dataset.query = query;
    this.data = data;
    this.draw();
  }

  draw() {
    const data = this.data;
    const max = Math.max(
      1,
      ...data.buckets.map((bucket) => STACK.reduce((sum, source) => sum + (bucket.counts[source] ?? 0), 0)),
    );
    const bars = data.buckets.map((bucket) => {
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.dataset.t = bucket.t;
      let total = 0;
      for (const source of STACK) {
        const count = bucket.counts[source] ?? 0;
        bar.dataset[source] = String(count);
        total += count;
        if (count === 0) continue;
        const part = document.createElement('div');
        part.className = `part src-${source}`;
        // CSSOM, not markup: allowed by the page's style-src 'self'.
        part.style.height = `${(100 * count) / max}%`;
        bar.append(part);
      }
      bar.title = `${bucket.t.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}: ${total} ${total === 1 ? 'entry' : 'entries'}`;
      return bar;
    });
    this.bars.replaceChildren(...bars);
    const short = (iso) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    this.label.textContent =
      data.buckets.length === 0
        ? 'no entries in this range'
        : `${short(data.from)} — ${short(data.to)} · ${this.describeBucket(data.bucketMs)} per bar · drag to narrow`;
  }

  describeBucket(ms) {
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
    if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`;
    return `${Math.round(ms / 360_000) / 10} h`;
  }

  /** Live entries: counted in their bucket; one past the end asks for the histogram again. */
  add(entries) {
    const data = this.data;
    if (data === null || this.element.hidden) return;
    const from = Date.parse(data.from);
    let stale = false;
    for (const entry of entries) {
      const at = Math.floor((Date.parse(entry.t) - from) / data.bucketMs);
      const bar = this.bars.children[at];
      if (bar === undefined || at < 0 || at >= data.buckets.length) {
        stale = true;
        continue;
      }
      const counts = data.buckets[at].counts;
      counts[entry.s] = (counts[entry.s] ?? 0) + 1;
    }
    if (stale) this.scheduleRefresh();
    this.scheduleDraw();
  }

  scheduleDraw() {
    if (this.drawTimer) return;
    this.drawTimer = setTimeout(() => {
      this.drawTimer = 0;
      if (this.data !== null) this.draw();
    }, DRAW_INTERVAL_MS);
  }

  scheduleRefresh() {
    if (this.refreshTimer !== 0) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = 0;
      if (this.view !== null) this.show(this.view);
    }, REFRESH_MS);
  }

  timeAt(clientX) {
    const box = this.bars.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    const from = Date.parse(this.data.from);
    return from + fraction * this.data.buckets.length * this.data.bucketMs;
  }

  startDrag(event) {
    if (this.data === null || this.data.buckets.length === 0 || event.button !== 0) return;
    this.bars.setPointerCapture(event.pointerId);
    this.drag = { x: event.clientX };
    this.moveDrag(event);
  }

  moveDrag(event) {
    if (this.drag === null) return;
    const box = this.bars.getBoundingClientRect();
    const left = Math.max(0, Math.min(this.drag.x, event.clientX) - box.left);
    const right = Math.min(box.width, Math.max(this.drag.x, event.clientX) - box.left);
    this.selection.hidden = false;
    this.selection.style.left = `${left}px`;
    this.selection.style.width = `${Math.max(1, right - left)}px`;
  }

  endDrag(event) {
    if (this.drag === null) return;
    const start = this.drag.x;
    this.cancelDrag();
    if (Math.abs(event.clientX - start) < MIN_DRAG_PX) return;
    const since = this.timeAt(Math.min(start, event.clientX));
    const until = this.timeAt(Math.max(start, event.clientX));
    this.onRange(new Date(Math.floor(since)).toISOString(), new Date(Math.ceil(until)).toISOString());
  }

  cancelDrag() {
    this.drag = null;
    this.selection.hidden = true;
  }
}
