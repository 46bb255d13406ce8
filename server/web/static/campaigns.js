// The campaign editor's playlists: items reordered by dragging (HTML5 drag and drop) or by
// their Up and Down buttons, without a round trip; Save posts the whole order. Without this
// script every button posts the form and the server does the same moves.
"use strict";

(function () {
  function rows(list) { return Array.prototype.slice.call(list.querySelectorAll("[data-row]")); }

  // Buttons name their row by its place ("up:2"): keep that true after every move.
  function renumber(list) {
    rows(list).forEach(function (row, i) {
      row.querySelectorAll("button[name=op]").forEach(function (button) {
        button.value = button.value.split(":")[0] + ":" + i;
      });
    });
  }

  function announce(form, row) {
    var list = form.querySelector("ol.rows");
    var all = rows(list);
    var where = form.querySelector(".moved");
    var text = form.getAttribute("data-moved") || "";
    if (where) {
      where.textContent = text.replace("{n}", String(all.indexOf(row) + 1)).replace("{total}", String(all.length));
    }
    form.setAttribute("data-dirty", "true");
  }

  function move(form, row, direction) {
    var list = row.parentNode;
    if (direction === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (direction === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    renumber(list);
    announce(form, row);
  }

  function setUp(form) {
    var list = form.querySelector("ol.rows");
    if (!list) { return; }
    var dragged = null;

    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-move]") : null;
      if (!button) { return; }
      event.preventDefault();
      var row = button.closest("[data-row]");
      move(form, row, button.getAttribute("data-move"));
      // At the top (or bottom) this button hides: keep the focus on the row's other one.
      var other = row.querySelector(button.getAttribute("data-move") === "up" ? "[data-move=down]" : "[data-move=up]");
      (getComputedStyle(button).visibility === "hidden" ? other : button).focus();
    });

    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest ? event.target.closest("[data-row]") : null;
      if (!dragged) { return; }
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "");
    });

    list.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var over = event.target.closest ? event.target.closest("[data-row]") : null;
      if (!over || over === dragged) { return; }
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });

    list.addEventListener("drop", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
    });

    list.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("dragging");
      renumber(list);
      announce(form, dragged);
      dragged = null;
    });
  }

  document.querySelectorAll("form[data-reorder]").forEach(setUp);
})();
