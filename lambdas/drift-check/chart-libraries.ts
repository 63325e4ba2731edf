/**
 * The chart libraries' browser bundles (vega, vega-lite, vega-embed, pinned in package.json), as
 * text: esbuild's text loader inlines each file into the function's bundle (no file to ship, no
 * network), and the HTML report inlines them again, so it opens offline. Their packages do not
 * export these paths, hence the relative ones. Imported lazily by the handler (the first check of a
 * cold start); unit tests hand in their own text.
 */
// @ts-expect-error TS7016: a browser script, not a typed module; the text loader makes it a string.
import vega from '../../node_modules/vega/build/vega.min.js' with { type: 'text' };
// @ts-expect-error TS7016: as above.
import vegaLite from '../../node_modules/vega-lite/build/vega-lite.min.js' with { type: 'text' };
// @ts-expect-error TS7016: as above.
import vegaEmbed from '../../node_modules/vega-embed/build/vega-embed.min.js' with { type: 'text' };

/** The three scripts in load order (vega-embed needs vega and vega-lite), each ending its statement. */
export const CHART_LIBRARIES: string = [vega, vegaLite, vegaEmbed].map((text: string) => `${text}\n;`).join('\n');
