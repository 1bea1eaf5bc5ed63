// Sort the services table by a column: each header is a button (Enter and Space press it);
// the sorted header carries aria-sort and a live region says the new order.
document.querySelectorAll("th button[data-col]").forEach(function (button) {
  button.addEventListener("click", function () {
    var th = button.parentNode, table = th.closest("table"), body = table.tBodies[0];
    var col = +button.dataset.col, up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
      if (x === "" || y === "") { return (x === "") - (y === ""); }  // blanks last, both ways
      var nx = Number(x), ny = Number(y);
      var d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return up ? d : -d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    document.getElementById("sort-status").textContent =
      "Sorted by " + button.textContent + ", " + (up ? "ascending" : "descending") + ".";
  });
});
