// Quote editor behaviour (no inline scripts: the Content-Security-Policy forbids them).
// Lines are added, removed and priced by htmx partials rendered on the server; this file only
// turns the customer field into a search box.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("quote-customer");
  if (!select || !window.TomSelect) return;
  const url = select.dataset.searchUrl;
  const control = new window.TomSelect(select, {
    valueField: "id",
    labelField: "name",
    searchField: [],
    placeholder: select.dataset.placeholder || "",
    maxOptions: 20,
    loadThrottle: 250,
    // The server matches names, pinyin, initials, phones and emails: keep its order.
    score: () => () => 1,
    load: (query, callback) => {
      const address = `${url}?format=json&q=${encodeURIComponent(query)}`;
      fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : { results: [] }))
        .then((data) => callback(data.results || []))
        .catch(() => callback());
    },
    render: {
      option: (item, escape) => {
        const phone = item.phone ? ` <span class="text-secondary small">${escape(item.phone)}</span>` : "";
        return `<div>${escape(item.name)}${phone}</div>`;
      },
    },
  });
  // Before any line is typed, reload with the customer so that the page can offer its
  // opportunities and the price list of its customer group.
  control.on("change", (value) => {
    const typed = Array.from(document.querySelectorAll("#lines-editor input[name$='-description']"))
      .some((input) => input.value.trim() !== "");
    if (value && !typed) {
      const params = new URLSearchParams(window.location.search);
      params.set("customer", value);
      window.location.search = params.toString();
    }
  });
});
