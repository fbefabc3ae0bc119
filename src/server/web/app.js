// The sandlog viewer's entry point: plain browser JavaScript in native ES
// modules, no build step, nothing loaded from elsewhere (the page's policy
// allows scripts and styles from this server only). The modules, one
// concern each:
//   state.js      the view and its address (what a reload or a link restores)
//   api.js        JSON requests with the token, read URLs, the live stream
//   ansi.js       log text to text nodes: SGR colours, grep marks
//   render.js     one entry as one row (level colour, name column, link)
//   list.js       the windowed list: entries in memory, a bounded DOM
//   histogram.js  the volume histogram and its drag-to-narrow
//   view.js       opens a view: first entries, history pages, live stream
//   controls.js   the sidebar, toolbar, token form and keyboard
// Here: wire them together, open the view in the address, and open the only
// sandbox when there is exactly one and the address chooses none.

import { onUnauthorized, setToken, takeTokenFromFragment } from './api.js';
import { Controls } from './controls.js';
import { hasSelection, parseAddress } from './state.js';
import { Viewer } from './view.js';

const SANDBOX_LIST_REFRESH_MS = 10_000;

takeTokenFromFragment();
const controls = new Controls();
const viewer = new Viewer({
  log: controls.e.log,
  histogram: document.getElementById('histogram'),
  setStatus: (kind, text) => controls.setStatus(kind, text),
  showMessage: (text, offerRestart) => controls.showMessage(text, offerRestart),
  hideMessage: () => controls.hideMessage(),
  onView: (view) => controls.reflect(view),
  onCount: () => controls.updateCount(),
  onPaused: (paused) => controls.onPaused(paused),
  onSandbox: (event, name) => {
    controls.notice(`${event === 'sandbox-added' ? '+' : '−'} ${name}`);
    controls.loadSandboxes();
  },
});
controls.attach(viewer);
onUnauthorized(() => controls.showAuth());

async function openSandboxes() {
  const names = await controls.loadSandboxes();
  // With exactly one sandbox and no choice in the address, there is nothing to choose.
  if (names !== null && names.length === 1 && !hasSelection(viewer.view))
    viewer.open({ ...viewer.view, sandboxes: [names[0]] }, { push: false });
}

function useNewToken() {
  controls.e.auth.hidden = true;
  controls.setStatus('idle', 'idle');
  openSandboxes();
  if (hasSelection(viewer.view)) viewer.start();
}

controls.e.auth.addEventListener('submit', (event) => {
  event.preventDefault();
  setToken(controls.e.token.value.trim());
  controls.e.token.value = '';
  useNewToken();
});
// Pasting a URL with #token=… into the address bar of an open page does not reload it.
window.addEventListener('hashchange', () => {
  if (takeTokenFromFragment()) useNewToken();
});
// The back and forward buttons: the address is the view.
window.addEventListener('popstate', () => viewer.open(parseAddress(location.search), { replace: false }));

viewer.open(parseAddress(location.search), { push: false });
openSandboxes();
setInterval(() => {
  if (!document.hidden && controls.e.auth.hidden) controls.loadSandboxes();
}, SANDBOX_LIST_REFRESH_MS);
