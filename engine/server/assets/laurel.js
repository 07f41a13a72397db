// Laurel's one script: it only enhances pages that work without it.
// The playground checks the rubric as it is typed (the form still posts without script).
(function () {
  "use strict";
  var source = document.getElementById("rubric-source");
  var out = document.getElementById("live-problems");
  if (!source || !out) { return; }
  var timer = null;
  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch("/v1/validate", { method: "POST", headers: { "content-type": "application/json" }, body: source.value })
        .then(function (r) { return r.json(); })
        .then(function (v) {
          out.textContent = "";
          var list = (v && v.diagnostics) || [];
          var head = document.createElement("p");
          head.textContent = list.length === 0 ? out.getAttribute("data-none") : list.length + " " + out.getAttribute("data-some");
          out.appendChild(head);
          var ul = document.createElement("ul");
          list.forEach(function (d) {
            var li = document.createElement("li");
            li.textContent = (d.line ? d.line + ":" + d.column + " " : "") + (d.pointer || "") + " " + d.message;
            ul.appendChild(li);
          });
          out.appendChild(ul);
        })
        .catch(function () {});
    }, 400);
  });
})();
