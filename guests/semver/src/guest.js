// The semver component: npm's `semver` package behind `nanoproc:semver/versions`.
//
// `cargo xtask build` bundles this module with the package (installed from
// package-lock.json) into one module with esbuild, and componentize-js makes
// it a component with every WASI feature disabled, so that it imports
// nothing. An `err` result is a thrown `{ tag, val }`: the WIT error variant.

import SemVer from 'semver/classes/semver.js';
import Range from 'semver/classes/range.js';
import clean from 'semver/functions/clean.js';

// Strict reading, as npm reads a package's own version: no loose forms,
// and prereleases only where a range names one.
const OPTIONS = { loose: false, includePrerelease: false };

function version(text) {
  try {
    return new SemVer(text, OPTIONS);
  } catch {
    throw { tag: 'invalid-version', val: text };
  }
}

function range(text) {
  try {
    return new Range(text, OPTIONS);
  } catch {
    throw { tag: 'invalid-range', val: text };
  }
}

export const versions = {
  clean(text) {
    return clean(text, OPTIONS) ?? undefined;
  },

  compare(a, b) {
    return version(a).compare(version(b));
  },

  satisfies(v, r) {
    const parsed = version(v);
    return range(r).test(parsed);
  },

  maxSatisfying(list, r) {
    const wanted = range(r);
    let best;
    for (const text of list) {
      const parsed = version(text);
      if (wanted.test(parsed) && (best === undefined || parsed.compare(best.parsed) > 0)) {
        best = { text, parsed };
      }
    }
    return best?.text;
  },

  sort(list) {
    const parsed = list.map((text) => ({ text, parsed: version(text) }));
    // Array.prototype.sort is stable: equal versions keep their order.
    parsed.sort((a, b) => a.parsed.compare(b.parsed));
    return parsed.map((p) => p.text);
  },
};
