// Draws one Plotly figure in the page (ui.chart mounts it as a Streamlit v2 component).
// Plotly is the dashboard's own small bundle (dashboard/static/plotly/build.sh),
// loaded once per browser tab from 127.0.0.1 and shared by every chart.
function loadPlotly(url) {
  const loading = (window.__takedownsPlotly = window.__takedownsPlotly || {});
  if (!loading[url]) {
    loading[url] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("could not load " + url));
      document.head.appendChild(script);
    });
  }
  return loading[url];
}

export default function ({ parentElement, data, setTriggerValue }) {
  if (data.preload) {
    // Mounted with the page's first elements: Plotly loads before any chart needs it.
    loadPlotly(data.bundle).catch(() => {});
    return;
  }
  let chart = parentElement.querySelector(".takedowns-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "takedowns-chart";
    chart.style.width = "100%";
    parentElement.appendChild(chart);
  }
  // The figure's height held before Plotly draws, so the page does not jump when it does.
  chart.style.minHeight = (data.height || 360) + "px";
  const figure = JSON.parse(data.figure);
  let Plotly = null;
  let replaced = false; // Streamlit calls this again when the data changes: a late earlier call must not draw
  loadPlotly(data.bundle)
    .then((loaded) => {
      if (replaced) return;
      Plotly = loaded;
      return Plotly.react(chart, figure.data, figure.layout, data.config);
    })
    .then(() => {
      if (!replaced && data.clickable && !chart.dataset.clickable) {
        chart.dataset.clickable = "1";
        // What Python gets back: the clicked point's customdata and location (one event per click).
        chart.on("plotly_click", (event) => {
          const point = event && event.points && event.points[0];
          if (point) setTriggerValue("clicked", { customdata: point.customdata ?? null, location: point.location ?? null });
        });
      }
    })
    .catch((error) => {
      chart.textContent = "The chart could not be drawn: " + error.message;
    });
  return () => {
    replaced = true;
    if (Plotly) Plotly.purge(chart); // also drops the click listener
    delete chart.dataset.clickable;
  };
}
