// Guanxi page behaviour (no inline scripts: the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Show only the fields that fit the chosen customer kind (person / organisation).
  const kind = document.querySelector("select[name=kind]#id_kind");
  if (kind) {
    const apply = () => {
      document.querySelectorAll("[data-kind]").forEach((el) => {
        const wrap = el.closest(".field-wrap");
        if (wrap) wrap.toggleAttribute("data-kind-hidden", el.dataset.kind !== kind.value);
      });
    };
    kind.addEventListener("change", apply);
    apply();
  }
  // Close quick-search results on Escape or outside click.
  const results = document.getElementById("quick-search-results");
  if (results) {
    document.addEventListener("click", (e) => {
      if (!e.target.closest(".quick-search")) results.innerHTML = "";
    });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") results.innerHTML = ""; });
  }
  // Autocomplete selects: <select data-autocomplete="/customers/search/?format=json">.
  if (typeof TomSelect !== "undefined") {
    document.querySelectorAll("select[data-autocomplete]").forEach((el) => {
      new TomSelect(el, {
        valueField: "id", labelField: "name", searchField: ["name"], maxOptions: 20,
        load: (q, done) => {
          fetch(`${el.dataset.autocomplete}&q=${encodeURIComponent(q)}`, { credentials: "same-origin" })
            .then((r) => r.json()).then((j) => done(j.results)).catch(() => done());
        },
      });
    });
  }
  // Confirm destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach((btn) => {
    btn.addEventListener("click", (e) => { if (!confirm(btn.dataset.confirm)) e.preventDefault(); });
  });
});
