// Interactions pages (no inline scripts: the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Logging an interaction: who started it usually decides its direction, and back.
  document.querySelectorAll("form.interaction-form").forEach((form) => {
    const initiator = form.querySelector("select[name=initiator]");
    const direction = form.querySelector("select[name=direction]");
    if (!initiator || !direction || direction.disabled) return;
    initiator.addEventListener("change", () => {
      direction.value = initiator.value === "customer" ? "in" : "out";
    });
  });
  // Select the whole calendar address on focus, ready to copy.
  document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });
});
