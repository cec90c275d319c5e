// "Continue with Firebase": trade the Firebase email and password for an ID token
// (Firebase Auth REST API), then post the token to our server, which verifies it.
(function () {
  "use strict";
  var form = document.getElementById("firebase-form");
  if (!form) return;
  var error = document.getElementById("firebase-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var url = form.dataset.authBase + "/v1/accounts:signInWithPassword?key=" +
      encodeURIComponent(form.dataset.apiKey);
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        email: document.getElementById("fb-email").value,
        password: document.getElementById("fb-password").value,
        returnSecureToken: true
      })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok || !result.body.idToken) {
        var msg = (result.body.error && result.body.error.message) || "Firebase refused the sign-in.";
        error.textContent = "Firebase: " + msg.replace(/_/g, " ").toLowerCase();
        return;
      }
      var tokenForm = document.getElementById("firebase-token-form");
      tokenForm.elements.id_token.value = result.body.idToken;
      tokenForm.submit();
    }).catch(function () {
      error.textContent = "Firebase could not be reached. Try again, or sign in with a password.";
    });
  });
})();
