// Globals of the browser client that no module declares (type-checked by web/tsconfig.json; see npm run typecheck).
// plotly is loaded by a classic <script> tag (plotly.js-basic-dist-min, async) beside the modules, so it is a
// global. Only the two functions the client calls are declared; traces, layouts and configs are plotly's own
// (large) schema, passed through as plain objects. Everything of our own is typed through JSDoc in the .js files.

/** A plotly trace, layout or config object (plotly's schema, not checked here). */
type PlotlyObject = Record<string, unknown>;

interface PlotlyApi {
  /** Draw or update the plot in `el` in place. */
  react(el: HTMLElement, data: PlotlyObject[], layout?: PlotlyObject, config?: PlotlyObject): Promise<HTMLElement>;
  /** Remove the plot and its listeners from `el`. */
  purge(el: HTMLElement | Element): void;
}

declare const Plotly: PlotlyApi;

/** The requests index.html's inline script sends while the page is parsed (util.js api() and app.js take them). */
interface ImmunopdBoot {
  /** early GETs by API path, each used once */
  get: Record<string, Promise<Response>>;
  /** the first comparison of a plain visit: the request body as JSON text and its response */
  compare: { key: string; response: Promise<Response> } | null;
}

interface Window {
  /** undefined until plotly's <script> has run */
  Plotly?: PlotlyApi;
  __immunopdBoot?: ImmunopdBoot;
}
