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
