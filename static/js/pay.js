// The payment page: mount Stripe's Card Element, pay, then let the server check with
// Stripe how the payment ended. The browser never tells the server "it is paid".
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) return;
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  var complete = document.getElementById("complete-form");

  // The hold's remaining minutes, kept current while the page is open.
  var minutes = document.getElementById("minutes-left");
  if (minutes && minutes.dataset.expires) {
    var expires = Date.parse(minutes.dataset.expires);
    var tick = function () {
      var left = Math.ceil((expires - Date.now()) / 60000);
      minutes.textContent = left > 0 ? String(left) : "0";
      if (left <= 0) {
        errors.textContent = "Your hold has run out. Reload the page to see if the time is still free.";
      }
    };
    setInterval(tick, 15000);
  }

  if (typeof Stripe === "undefined") {
    errors.textContent = "The card form could not be loaded. Check your connection and reload the page.";
    button.disabled = true;
    return;
  }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", {});
  card.mount("#card-element");
  // Label the card inputs for screen readers (Stripe's own iframe labels itself).
  Array.prototype.forEach.call(
    document.querySelectorAll("#card-element input"),
    function (input) {
      var name = (input.getAttribute("placeholder") || "").replace("_", " ");
      input.setAttribute("aria-label", "Card " + name);
      input.setAttribute("inputmode", "numeric");
    }
  );

  function finish(fields) {
    Object.keys(fields).forEach(function (key) { complete.elements[key].value = fields[key]; });
    complete.submit();
  }

  function fail(message) {
    errors.textContent = message || "The payment did not go through.";
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.textContent = "";
    button.disabled = true;
    if (form.dataset.confirmOnServer === "1") {
      // Local Stripe stand-in: it can tokenise the card but not confirm a payment in
      // the browser, so the server confirms the intent with the tokenised card.
      stripe.createToken(card).then(function (result) {
        if (result.error || !result.token) {
          fail((result.error && result.error.message) || "Check the card details.");
          return;
        }
        finish({ stand_in_card: result.token.card.id });
      });
      return;
    }
    stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error && result.error.type === "validation_error") {
          fail(result.error.message);  // an incomplete card: nothing was tried
          return;
        }
        // Declined or paid, the server reads the intent from Stripe and records the outcome.
        finish({});
      });
  });
})();
