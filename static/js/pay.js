// The payment page: mount Stripe's Card Element, pay, then let the server check with
// Stripe how the payment ended. The browser never tells the server "it is paid".
// Every way a try can end without leaving the page (an empty card, a refused card, no
// network, a hold that ran out) shows a sentence and gives the button back.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) return;
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  var complete = document.getElementById("complete-form");
  var minutes = document.getElementById("minutes-left");
  var expires = minutes && minutes.dataset.expires ? Date.parse(minutes.dataset.expires) : NaN;

  var MESSAGES = {
    empty: "Enter the card number, its expiry month and year, and the CVC.",
    network: "We could not reach the payment service. Check your connection and try again.",
    lapsed: "Your hold on this time has run out, so nothing was charged. " +
      "Reload the page to see whether the time is still free.",
    card: "Check the card number, expiry date and CVC, then try again.",
  };

  function show(message) {
    errors.textContent = message;
  }

  function fail(message) {
    show(message);
    button.disabled = false;
  }

  function holdLapsed() {
    return !isNaN(expires) && Date.now() >= expires;
  }

  // The hold's remaining minutes, kept current while the page is open.
  if (!isNaN(expires)) {
    setInterval(function () {
      var left = Math.ceil((expires - Date.now()) / 60000);
      minutes.textContent = left > 0 ? String(left) : "0";
      if (left <= 0) show(MESSAGES.lapsed);
    }, 15000);
  }

  if (typeof Stripe === "undefined") {
    show("The card form could not be loaded. Check your connection and reload the page.");
    button.disabled = true;
    return;
  }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", {});
  card.mount("#card-element");
  var inputs = document.querySelectorAll("#card-element input");
  // Label the card inputs for screen readers (Stripe's own iframe labels itself).
  Array.prototype.forEach.call(inputs, function (input) {
    var name = (input.getAttribute("placeholder") || "").replace("_", " ");
    input.setAttribute("aria-label", "Card " + name);
    input.setAttribute("inputmode", "numeric");
    input.setAttribute("autocomplete", "off");
  });
  // The stand-in's number field moves on after 16 characters, spaces included, so a
  // number typed in groups ("4242 4242 …") would spill into the expiry. Keep digits only,
  // before its own handler sees the value (capture phase on the container).
  document.getElementById("card-element").addEventListener("input", function (event) {
    var target = event.target;
    if (target.getAttribute("placeholder") === "number") {
      var digits = target.value.replace(/\D+/g, "");
      if (digits !== target.value) target.value = digits;
    }
  }, true);

  function standInCardIsEmpty() {
    // Only the stand-in's plain inputs can be read; Stripe's own iframe reports
    // an incomplete card itself as a validation error.
    if (!inputs.length) return false;
    return Array.prototype.some.call(inputs, function (input) {
      return input.getAttribute("placeholder") !== "postal_code" && !input.value.trim();
    });
  }

  function readable(error) {
    // Stripe's card errors are written for people; anything else (a network failure,
    // a bare "Bad request") is not, so say what to do instead.
    if (!error) return MESSAGES.card;
    if (error instanceof TypeError || error.name === "TypeError") return MESSAGES.network;
    if ((error.type === "card_error" || error.type === "validation_error") && error.message) {
      return error.message;
    }
    return MESSAGES.card;
  }

  function finish(fields) {
    Object.keys(fields).forEach(function (key) { complete.elements[key].value = fields[key]; });
    complete.submit();
  }

  function payOnServer() {
    // Local Stripe stand-in: it can tokenise the card but not confirm a payment in
    // the browser, so the server confirms the intent with the tokenised card.
    return stripe.createToken(card).then(function (result) {
      var token = result && result.token;
      if (!token || !token.card || !token.card.id) {
        fail(readable(result && result.error));
        return;
      }
      finish({ stand_in_card: token.card.id });
    });
  }

  function payInBrowser() {
    return stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error && result.error.type === "validation_error") {
          fail(result.error.message);  // an incomplete card: nothing was tried
          return;
        }
        // Declined or paid, the server reads the intent from Stripe and records the outcome.
        finish({});
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show("");
    if (holdLapsed()) {
      fail(MESSAGES.lapsed);
      return;
    }
    if (standInCardIsEmpty()) {
      fail(MESSAGES.empty);
      return;
    }
    button.disabled = true;
    var attempt;
    try {
      attempt = form.dataset.confirmOnServer === "1" ? payOnServer() : payInBrowser();
    } catch (error) {
      fail(readable(error));
      return;
    }
    attempt.catch(function (error) { fail(readable(error)); });
  });
})();
