/* Click a header to sort by it (again to reverse); empty cells always sort last. */
function vbSortable(table) {
  var head = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(head, function (th, col) {
    th.setAttribute("title", "click to sort");
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("asc");
      Array.prototype.forEach.call(head, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var keyed = rows.map(function (r, i) {
        var c = r.cells[col], s = c ? c.getAttribute("data-sort") : "";
        if (s === null) s = c.textContent;
        var n = s === "" ? NaN : Number(s);
        return { row: r, text: s, num: n, i: i };
      });
      keyed.sort(function (a, b) {
        if (a.text === "" || b.text === "") return (a.text === "") - (b.text === "") || a.i - b.i;
        var cmp = (!isNaN(a.num) && !isNaN(b.num)) ? a.num - b.num : a.text.localeCompare(b.text);
        return (asc ? cmp : -cmp) || a.i - b.i;
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (k) { frag.appendChild(k.row); });
      body.appendChild(frag);
    });
  });
}
Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), vbSortable);
