// Log text to DOM nodes. SGR colour sequences become class names and CSSOM
// colour values; every other control sequence is dropped; grep matches are
// wrapped in <mark> elements. The text itself only ever enters the page
// through textContent and text nodes — never as markup — so a line holding
// "<img onerror=…>" shows exactly those characters.

// An SGR sequence (kept as style), any other escape sequence, or a control character other than tab and newline (dropped).
const SEQUENCES =
  /\x1b\[([0-9;:]*)m|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|\x1b[ -/]*[0-~]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function newStyle() {
  return {
    fg: null,
    bg: null,
    bold: false,
    dim: false,
    italic: false,
    underline: false,
    inverse: false,
    strike: false,
  };
}

function paletteColor(index) {
  if (index < 16) return index;
  if (index < 232) {
    const n = index - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(n / 36))}, ${level(Math.floor(n / 6) % 6)}, ${level(n % 6)})`;
  }
  const gray = 8 + (index - 232) * 10;
  return `rgb(${gray}, ${gray}, ${gray})`;
}

function extendedColor(codes, at) {
  // 38;5;N or 38;2;R;G;B. Returns [colour or null, codes consumed after the 38/48].
  if (codes[at + 1] === 5 && codes[at + 2] >= 0 && codes[at + 2] <= 255) return [paletteColor(codes[at + 2]), 2];
  if (codes[at + 1] === 2) {
    const [r, g, b] = [codes[at + 2], codes[at + 3], codes[at + 4]];
    if ([r, g, b].every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return [`rgb(${r}, ${g}, ${b})`, 4];
    return [null, 4];
  }
  return [null, 1];
}

function applySgr(style, parameters) {
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((code) => (code === '' ? 0 : Number(code)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(style, newStyle());
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 7) style.inverse = true;
    else if (code === 9) style.strike = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code === 27) style.inverse = false;
    else if (code === 29) style.strike = false;
    else if (code >= 30 && code <= 37) style.fg = code - 30;
    else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
    else if (code === 39) style.fg = null;
    else if (code >= 40 && code <= 47) style.bg = code - 40;
    else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
    else if (code === 49) style.bg = null;
    else if (code === 38 || code === 48) {
      const [color, consumed] = extendedColor(codes, i);
      if (code === 38) style.fg = color;
      else style.bg = color;
      i += consumed;
    }
  }
}

function isPlain(style) {
  return (
    style.fg === null &&
    style.bg === null &&
    !style.bold &&
    !style.dim &&
    !style.italic &&
    !style.underline &&
    !style.inverse &&
    !style.strike
  );
}

function appendStyled(parent, text, style) {
  if (text === '') return;
  if (isPlain(style)) {
    parent.append(document.createTextNode(text));
    return;
  }
  const span = document.createElement('span');
  span.textContent = text;
  const fg = style.inverse ? style.bg : style.fg;
  const bg = style.inverse ? style.fg : style.bg;
  const classes = [];
  if (typeof fg === 'number') classes.push(`fg${fg}`);
  else if (typeof fg === 'string') span.style.color = fg;
  else if (style.inverse) classes.push('fg-inverse');
  if (typeof bg === 'number') classes.push(`bg${bg}`);
  else if (typeof bg === 'string') span.style.backgroundColor = bg;
  else if (style.inverse) classes.push('bg-inverse');
  if (style.bold) classes.push('bold');
  if (style.dim) classes.push('dim');
  if (style.italic) classes.push('italic');
  if (style.underline) classes.push('underline');
  if (style.strike) classes.push('strike');
  span.className = classes.join(' ');
  parent.append(span);
}

/** The text as shown: control and escape sequences removed. */
export function plainText(text) {
  SEQUENCES.lastIndex = 0;
  return text.replace(SEQUENCES, '');
}

/** [start, end) of every non-empty match of a global RegExp in `text`. */
export function matchRanges(pattern, text) {
  const ranges = [];
  if (pattern === null) return ranges;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[0].length === 0) {
      pattern.lastIndex += 1;
      continue;
    }
    ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

function segments(text) {
  const style = newStyle();
  const list = [];
  let at = 0;
  SEQUENCES.lastIndex = 0;
  for (let match = SEQUENCES.exec(text); match !== null; match = SEQUENCES.exec(text)) {
    if (match.index > at) list.push({ text: text.slice(at, match.index), style: { ...style } });
    if (match[1] !== undefined) applySgr(style, match[1]);
    at = match.index + match[0].length;
    if (match[0].length === 0) SEQUENCES.lastIndex += 1;
  }
  if (at < text.length) list.push({ text: text.slice(at), style: { ...style } });
  return list;
}

/**
 * Appends `text` to `parent` as styled text nodes, with the matches of
 * `pattern` (a global RegExp run on the shown text, or null) inside
 * `<mark class="match">`. Returns the number of matches.
 */
export function appendLogText(parent, text, pattern = null) {
  const parts = segments(text);
  const ranges = pattern === null ? [] : matchRanges(pattern, parts.map((part) => part.text).join(''));
  if (ranges.length === 0) {
    for (const part of parts) appendStyled(parent, part.text, part.style);
    return 0;
  }
  let offset = 0;
  let range = 0;
  for (const part of parts) {
    const end = offset + part.text.length;
    let at = offset;
    while (at < end) {
      while (range < ranges.length && ranges[range][1] <= at) range += 1;
      const current = ranges[range];
      if (current === undefined || current[0] >= end) {
        appendStyled(parent, part.text.slice(at - offset), part.style);
        break;
      }
      if (current[0] > at) {
        appendStyled(parent, part.text.slice(at - offset, current[0] - offset), part.style);
        at = current[0];
      }
      const stop = Math.min(current[1], end);
      const mark = document.createElement('mark');
      mark.className = 'match';
      appendStyled(mark, part.text.slice(at - offset, stop - offset), part.style);
      parent.append(mark);
      at = stop;
    }
    offset = end;
  }
  return ranges.length;
}
