import embed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { Spec } from './charts.js';

/**
 * Draws a Vega-Lite spec into an element. Vega's expressions run in its interpreter (`ast: true`),
 * not compiled with `new Function`, so the page's Content-Security-Policy needs no 'unsafe-eval'.
 * SVG, so the marks are in the page (and the tests can count them).
 */
export async function draw(element: HTMLElement, spec: Spec, label: string): Promise<() => void> {
  const result = await embed(element, spec as never, { renderer: 'svg', actions: false, ast: true, expr: expressionInterpreter, defaultStyle: false, tooltip: true, config: { aria: false } });
  // A chart is one image with a name for screen readers; its marks are hidden from them (the table
  // beside it carries the numbers), since Vega's own roles on marks would each need a name.
  element.setAttribute('role', 'img');
  element.setAttribute('aria-label', label);
  element.querySelector('svg')?.setAttribute('aria-hidden', 'true');
  return () => result.finalize();
}
