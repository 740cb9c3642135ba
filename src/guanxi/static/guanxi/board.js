// Kanban board: drag a card to another stage; the server decides, a refusal puts it back.
document.addEventListener("DOMContentLoaded", () => {
  const board = document.getElementById("board");
  if (!board || typeof Sortable === "undefined") return;
  const csrf = board.dataset.csrf;
  const recount = () => board.querySelectorAll(".kanban-col").forEach((col) => {
    const n = col.querySelectorAll(".kanban-card").length;
    const el = col.querySelector(".col-count");
    if (el && Number(el.textContent) < n) el.textContent = n;
  });
  board.querySelectorAll(".kanban-cards").forEach((list) => {
    Sortable.create(list, {
      group: "board", animation: 120,
      onEnd: async (evt) => {
        if (evt.from === evt.to) return;
        const card = evt.item;
        const col = evt.to.closest(".kanban-col");
        const body = new URLSearchParams({ stage: evt.to.dataset.stage, version: card.dataset.version });
        if (col.dataset.lost) {
          const reason = prompt(board.dataset.lostPrompt || "Why?");
          if (!reason) { evt.from.insertBefore(card, evt.from.children[evt.oldIndex] || null); return; }
          body.set("reason", reason);
        }
        const resp = await fetch(`/sales/opportunities/${card.dataset.id}/move/`, {
          method: "POST", body, headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
          credentials: "same-origin",
        });
        const data = await resp.json().catch(() => ({}));
        if (resp.ok && data.ok) {
          card.dataset.version = data.version;
          card.classList.add("border-success");
          recount();
        } else {
          evt.from.insertBefore(card, evt.from.children[evt.oldIndex] || null);
          card.classList.add("border-danger");
          if (data.error) alert(data.error);
          else if (data.errors) alert(Object.values(data.errors).flat().join("\n"));
        }
      },
    });
  });
});
