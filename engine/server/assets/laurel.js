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
            li.textContent = (d.line ? d.line + ":" + d.column + " " : "") + (d.pointer || "") + " ";
            // What the message marks as code (`-2`, an id) is set as code, without the marks.
            var parts = String(d.message).split("`");
            parts.forEach(function (part, i) {
              if (i % 2 === 1 && i < parts.length - (parts.length % 2 === 0 ? 1 : 0)) {
                var code = document.createElement("code");
                code.textContent = part;
                li.appendChild(code);
              } else {
                li.appendChild(document.createTextNode(part));
              }
            });
            ul.appendChild(li);
          });
          out.appendChild(ul);
        })
        .catch(function () {});
    }, 400);
  });
})();

// Passkeys: a button with `data-passkey="register"` or `data-passkey="use"` asks the browser's
// authenticator (WebAuthn), sends the answer to the API with the session's CSRF token, and
// goes on to `data-next`. WebAuthn needs script: without it, the page says so.
(function () {
  "use strict";
  var button = document.querySelector("[data-passkey]");
  if (!button) { return; }
  var status = document.getElementById("passkey-status");
  var b64 = function (buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  var unb64 = function (text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { bytes[i] = s.charCodeAt(i); }
    return bytes.buffer;
  };
  var post = function (path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": button.getAttribute("data-csrf") },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (v) { if (!r.ok) { throw new Error(v.detail || r.status); } return v; });
    });
  };
  var say = function (text) { if (status) { status.textContent = text; } };
  button.hidden = false;
  var fallback = document.getElementById("passkey-no-script");
  if (fallback) { fallback.hidden = true; }
  button.addEventListener("click", function () {
    var register = button.getAttribute("data-passkey") === "register";
    say(button.getAttribute("data-working"));
    var done;
    if (register) {
      done = post("/v1/me/passkeys/options").then(function (o) {
        o.challenge = unb64(o.challenge);
        o.user.id = unb64(o.user.id);
        o.excludeCredentials = (o.excludeCredentials || []).map(function (c) { return { type: c.type, id: unb64(c.id) }; });
        return navigator.credentials.create({ publicKey: o });
      }).then(function (c) {
        return post("/v1/me/passkeys", { label: button.getAttribute("data-label") || "", credential: {
          id: c.id, type: c.type, response: {
            clientDataJSON: b64(c.response.clientDataJSON), attestationObject: b64(c.response.attestationObject) } } });
      });
    } else {
      done = post("/v1/sign-in/passkey/options").then(function (o) {
        o.challenge = unb64(o.challenge);
        o.allowCredentials = (o.allowCredentials || []).map(function (c) { return { type: c.type, id: unb64(c.id) }; });
        return navigator.credentials.get({ publicKey: o });
      }).then(function (c) {
        return post("/v1/sign-in/passkey", { credential: {
          id: c.id, type: c.type, response: {
            clientDataJSON: b64(c.response.clientDataJSON), authenticatorData: b64(c.response.authenticatorData),
            signature: b64(c.response.signature) } } });
      });
    }
    done.then(function () { window.location.assign(button.getAttribute("data-next")); })
      .catch(function (e) { say(button.getAttribute("data-failed") + " " + (e && e.message ? e.message : "")); });
  });
})();

// A page that refused a form moves focus to its list of problems, so that a screen reader
// reads it first and the keyboard starts there (each problem links to its field).
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }
})();

// Long answers with a length limit count their characters as they are typed ("120 of at least
// 100, at most 2000"); the server checks them either way.
(function () {
  "use strict";
  var fields = document.querySelectorAll("textarea[data-counter]");
  Array.prototype.forEach.call(fields, function (field) {
    if (!field.getAttribute("data-min") && !field.getAttribute("data-max")) { return; }
    var out = document.createElement("span");
    out.className = "hint counter";
    out.id = field.id + "-counter";
    out.setAttribute("aria-live", "polite");
    field.parentNode.insertBefore(out, field.nextSibling);
    field.setAttribute("aria-describedby", (field.getAttribute("aria-describedby") || "") + " " + out.id);
    var show = function () {
      out.textContent = field.getAttribute("data-counter")
        .replace("{n}", String(Array.from(field.value).length))
        .replace("{min}", field.getAttribute("data-min") || "0")
        .replace("{max}", field.getAttribute("data-max") || "—");
    };
    field.addEventListener("input", show);
    show();
  });
})();

// Conditional questions: a question wrapped in `data-show-if` (its rubric condition as JSON) is
// shown only while the condition holds for the answers given; hidden, its inputs are disabled,
// so nothing of it is sent (the server drops and refuses it too). Conditions this script does
// not read (dates, counts, formulas) leave the question shown, with its condition in words.
(function () {
  "use strict";
  var wrapped = document.querySelectorAll("[data-show-if]");
  if (wrapped.length === 0) { return; }
  var form = wrapped[0].closest("form");
  if (!form) { return; }
  function answer(path) {
    var top = "f." + path;
    var inputs = form.querySelectorAll("[name='" + top.replace(/'/g, "") + "']");
    var values = [];
    inputs.forEach(function (i) {
      if (i.disabled) { return; }
      if ((i.type === "checkbox" || i.type === "radio") && !i.checked) { return; }
      if (i.value !== "") { values.push(i.value); }
    });
    if (values.length === 0) {
      // A group or list: any input below it answered.
      form.querySelectorAll("[name^='" + top.replace(/'/g, "") + ".']").forEach(function (i) {
        if (!i.disabled && i.value !== "" && !((i.type === "checkbox" || i.type === "radio") && !i.checked)) { values.push(i.value); }
      });
    }
    return values;
  }
  function same(a, b) { return String(a) === String(b); }
  function chosen(name) {
    var i = form.querySelector("[name='" + name + "']");
    return i ? i.value : "";
  }
  function holds(c) {
    if (c === null || typeof c !== "object") { return true; }
    var k = Object.keys(c)[0];
    var v = c[k];
    switch (k) {
      case "equals": return answer(v.field).some(function (x) { return same(x, v.value); });
      case "in": return answer(v.field).some(function (x) { return v.values.some(function (y) { return same(x, y); }); });
      case "present": return answer(v).length > 0;
      case "absent": return answer(v).length === 0;
      case "not": return !holds(v);
      case "all": return v.every(holds);
      case "any": return v.some(holds);
      case "applicant_type": return v.indexOf(chosen("applicant_type")) >= 0;
      case "category": return v.indexOf(chosen("category")) >= 0;
      default: return true;
    }
  }
  function update() {
    wrapped.forEach(function (el) {
      var on = holds(JSON.parse(el.getAttribute("data-show-if")));
      el.hidden = !on;
      el.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !on; });
    });
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();

// Autosave: a new application's answers are saved as a draft two seconds after the applicant
// stops typing, and when the page is left (the form posts its draft button's action; files
// are left for the next save or the submission). The status line says when it was saved.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  var status = document.getElementById("autosave-status");
  if (!form || !status) { return; }
  var timer = null;
  var dirty = false;
  var saving = false;
  var inflight = null;
  function save() {
    if (!dirty || saving) { return; }
    var data = new FormData(form);
    Array.from(data.keys()).forEach(function (k) { if (k.indexOf("file.") === 0) { data.delete(k); } });
    data.set("action", "draft");
    saving = true;
    dirty = false;
    inflight = new AbortController();
    // The attribute, not `form.action`: the form's buttons are named `action`.
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin", signal: inflight.signal })
      .then(function (r) {
        saving = false;
        if (r.ok) {
          var now = new Date();
          var hh = String(now.getHours()).padStart(2, "0");
          var mm = String(now.getMinutes()).padStart(2, "0");
          status.textContent = status.getAttribute("data-saved") + " " + hh + ":" + mm;
        } else {
          dirty = true;
          status.textContent = status.getAttribute("data-failed");
        }
      })
      .catch(function () {
        saving = false;
        dirty = true;
        status.textContent = status.getAttribute("data-failed");
      });
  }
  function changed(e) {
    if (e.target && e.target.type === "file") { return; }
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, 2000);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Submitting (or saving by hand) is the last word: a pending autosave is dropped.
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    dirty = false;
    if (inflight) { inflight.abort(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(); }
  });
})();

// A judge's sheet counts its marks as they are chosen ("12 of 18 marks given").
(function () {
  "use strict";
  var line = document.getElementById("sheet-progress");
  if (!line) { return; }
  var form = line.closest("form");
  var template = line.getAttribute("data-template");
  if (!form || !template) { return; }
  // One mark per indicator: a group of step buttons counts once, when one is chosen.
  // A criterion abstained on counts as done.
  function update() {
    var names = {};
    form.querySelectorAll("[name^='m.']").forEach(function (m) {
      if (!(m.name in names)) { names[m.name] = false; }
      var part = m.closest("[data-criterion-id]");
      var box = part && part.querySelector("input[name^='abstain.']");
      var given = (box && box.checked) || (m.type === "radio" ? m.checked : m.value !== "");
      if (given) { names[m.name] = true; }
    });
    var all = Object.keys(names);
    var given = all.filter(function (n) { return names[n]; }).length;
    line.textContent = template.replace("{given}", String(given)).replace("{total}", String(all.length));
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
})();

// A page following a running job looks again every second until the job is done (without
// script, its "Look again" link does the same).
(function () {
  "use strict";
  var waiting = document.querySelector("[data-poll]");
  if (!waiting) { return; }
  window.setTimeout(function () { window.location.reload(); }, 1000);
})();

// A score sheet's step buttons answer typing, as a list does: in a group, "7", "7.5" or a
// level's first letters choose that step (the arrow keys and a tap work without this).
(function () {
  "use strict";
  var typed = "";
  var timer = null;
  var last = null;
  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (!input || input.type !== "radio" || !input.closest || !input.closest(".steps")) { return; }
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1 || e.key === " ") { return; }
    var group = input.closest(".steps");
    // Typing in another group starts afresh.
    if (group !== last) { typed = ""; last = group; }
    typed += e.key.toLowerCase();
    clearTimeout(timer);
    timer = setTimeout(function () { typed = ""; }, 900);
    var radios = Array.prototype.slice.call(group.querySelectorAll("input[type=radio]"));
    var exact = radios.filter(function (r) { return r.value.toLowerCase() === typed; });
    var starts = radios.filter(function (r) {
      var shown = (r.nextElementSibling && r.nextElementSibling.textContent || "").toLowerCase();
      return r.value.toLowerCase().indexOf(typed) === 0 || shown.indexOf(typed) === 0;
    });
    var pick = exact[0] || starts[0];
    if (pick) {
      e.preventDefault();
      pick.checked = true;
      pick.focus();
      pick.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();

// A file chosen in an application form uploads on its own at once, with its progress: the
// form then carries only the file's reference (its name, type and hash), so a large file
// never rides on the form's post. A refused file says why next to its field. Without
// script, the file travels with the form.
(function () {
  "use strict";
  function size(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return Math.round(bytes / 1024) + " KB"; }
    return bytes + " B";
  }
  function hidden(form, name, value) {
    var input = form.querySelector("input[type=hidden][name='" + name + "']");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  document.querySelectorAll("input[type=file][data-upload]").forEach(function (input) {
    var form = input.closest("form");
    var status = document.getElementById(input.id + "-upload");
    if (!form || !status) { return; }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      var csrf = form.querySelector("input[name=csrf]");
      var bar = document.createElement("progress");
      bar.max = file.size || 1;
      bar.value = 0;
      status.textContent = (status.getAttribute("data-sending") || "").replace("{name}", file.name);
      status.appendChild(bar);
      status.classList.remove("error");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", input.getAttribute("data-upload") + "&name=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("content-type", "application/octet-stream");
      if (csrf) { xhr.setRequestHeader("x-csrf-token", csrf.value); }
      xhr.upload.addEventListener("progress", function (e) { if (e.lengthComputable) { bar.value = e.loaded; } });
      xhr.addEventListener("load", function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        if (xhr.status === 201 && answer.sha256) {
          var ref = input.getAttribute("data-ref");
          hidden(form, ref + ".name", answer.name);
          hidden(form, ref + ".media_type", answer.media_type);
          hidden(form, ref + ".sha256", answer.sha256);
          var remove = form.querySelector("input[name='" + ref + ".remove']");
          if (remove) { remove.checked = false; }
          input.value = "";
          input.setAttribute("aria-invalid", "false");
          status.textContent = (status.getAttribute("data-sent") || "")
            .replace("{name}", answer.name).replace("{size}", size(answer.size || file.size));
        } else {
          // The form's own post will try again and show the same problem with every other.
          status.textContent = answer.detail || ("HTTP " + xhr.status);
          status.classList.add("error");
          input.setAttribute("aria-invalid", "true");
        }
      });
      xhr.addEventListener("error", function () {
        status.textContent = "";
      });
      xhr.send(file);
    });
  });
})();

// An application form says how far it is: the required answers of the questions shown
// (a question hidden by its condition does not count), given or not, as they are typed.
(function () {
  "use strict";
  var line = document.getElementById("form-progress");
  if (!line) { return; }
  var form = line.closest("form");
  var template = line.getAttribute("data-template");
  if (!form || !template) { return; }
  // Required answers under `root`: how many are asked, and how many given.
  function count(root) {
    var asked = {};
    root.querySelectorAll("[required]").forEach(function (c) {
      if (c.closest("[hidden]") || c.disabled || !c.name) { return; }
      var key = c.name;
      var given;
      if (c.type === "radio" || c.type === "checkbox") {
        given = c.checked;
      } else if (c.type === "file") {
        key = c.getAttribute("data-ref") || c.name;
        given = c.value !== "" || !!form.querySelector("input[type=hidden][name='" + key + ".sha256']");
      } else {
        given = c.value.trim() !== "";
      }
      asked[key] = asked[key] || given;
    });
    var names = Object.keys(asked);
    return { total: names.length, given: names.filter(function (n) { return asked[n]; }).length };
  }
  var sections = form.querySelector("nav.form-sections");
  function update() {
    var all = count(form);
    var percent = all.total ? Math.round((100 * all.given) / all.total) : 100;
    line.textContent = template.replace("{given}", String(all.given)).replace("{total}", String(all.total))
      .replace("{percent}", String(percent));
    line.hidden = false;
    // Each section's own count, beside its name in the list of sections.
    if (sections) {
      var words = sections.getAttribute("data-template") || "{given}/{total}";
      sections.querySelectorAll("[data-section-progress]").forEach(function (span) {
        var part = form.querySelector("[data-section='" + span.getAttribute("data-section-progress") + "']");
        if (!part) { return; }
        var c = count(part);
        span.textContent = c.total ? words.replace("{given}", String(c.given)).replace("{total}", String(c.total)) : "";
        span.classList.toggle("done", c.total > 0 && c.given === c.total);
      });
    }
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// The score sheet's running total: as marks are chosen, the server computes the judge's total
// as the rubric does (`…/sheets/{application}/total`, stored nowhere) and the box shows it,
// with each criterion's score; while marks are missing, what the marks given add up to.
(function () {
  "use strict";
  var box = document.getElementById("sheet-total");
  if (!box) { return; }
  var form = box.closest("form");
  var url = box.getAttribute("data-url");
  if (!form || !url) { return; }
  var timer = null;
  // A decimal as the page shows it (as the server does): as it is up to four places, past them
  // rounded to two (half away from zero, on its digits) with "≈" before it.
  function shown(text) {
    var s = String(text);
    var m = /^(-?)([0-9]+)(?:\.([0-9]*?)0*)?$/.exec(s);
    if (!m) { return s; }
    if (!m[3] || m[3].length <= 4) { return m[1] + m[2] + (m[3] ? "." + m[3] : ""); }
    var hundredths = BigInt(m[2] + m[3].slice(0, 2)) + (m[3].charAt(2) >= "5" ? 1n : 0n);
    var whole = hundredths / 100n;
    var part = String(hundredths % 100n).padStart(2, "0").replace(/0+$/, "");
    return "≈" + m[1] + String(whole) + (part ? "." + part : "");
  }
  // The criteria abstained on: their marks are not counted (the server drops them on save).
  function abstained() {
    var out = [];
    form.querySelectorAll("input[name^='abstain.']").forEach(function (a) {
      if (a.checked) { out.push(a.name.slice(8)); }
    });
    return out;
  }
  function marks() {
    var out = {};
    var skipped = abstained();
    form.querySelectorAll("[name^='m.']").forEach(function (m) {
      if ((m.type === "radio" && !m.checked) || m.value === "") { return; }
      var part = m.closest("[data-criterion-id]");
      if (part && skipped.indexOf(part.getAttribute("data-criterion-id")) >= 0) { return; }
      // A number as a number (JSON keeps it exact), a level's id as text.
      var v = m.value.trim();
      out[m.name.slice(2)] = /^-?[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : v;
    });
    return out;
  }
  function ask() {
    var csrf = form.querySelector("input[name=csrf]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("content-type", "application/json");
    if (csrf) { xhr.setRequestHeader("x-csrf-token", csrf.value); }
    xhr.addEventListener("load", function () {
      if (xhr.status !== 200) { return; }
      var t;
      try { t = JSON.parse(xhr.responseText); } catch (e) { return; }
      var line = box.querySelector(".total-line");
      var template = t.complete ? box.getAttribute("data-complete") : box.getAttribute("data-so-far");
      if (line && template) {
        line.textContent = template.replace("{total}", shown(t.total)).replace("{n}", String(t.missing.length));
      }
      var skipped = abstained();
      box.querySelectorAll("[data-criterion]").forEach(function (span) {
        var id = span.getAttribute("data-criterion");
        var scored = (t.criteria || []).filter(function (c) { return c.criterion === id; })[0];
        span.textContent = skipped.indexOf(id) >= 0 ? (box.getAttribute("data-abstained") || "—")
          : scored ? shown(scored.score) : "—";
      });
      box.hidden = false;
    });
    xhr.send(JSON.stringify({ marks: marks(), abstained: abstained() }));
  }
  form.addEventListener("change", function (e) {
    if (!e.target || !e.target.name || (e.target.name.indexOf("m.") !== 0 && e.target.name.indexOf("abstain.") !== 0)) { return; }
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
})();
