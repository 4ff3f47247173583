/* Casualty Tracker admin: beside each figure of a report, how it is read ("reads as 121 or
   more"), updated as the analyst types. The rules and words come from incidents/figures.py
   (reading_rules(), in the page as JSON), so the page reads a figure as the site does; this
   file only applies them. No framework; loaded as a file because the CSP allows no inline
   script. */
(function () {
  "use strict";

  function readRules() {
    var data = document.getElementById("figure-reading-rules");
    return data ? JSON.parse(data.textContent) : null;
  }

  function wholeNumber(box) {
    if (!box) return null;
    var text = box.value.trim();
    return /^[0-9]+$/.test(text) ? parseInt(text, 10) : null;
  }

  function say(number) {
    return number.toLocaleString("en-GB");
  }

  function end(term, numbers) {
    var field = term[0], add = term[1];
    return field === null ? add : numbers[field] + add;
  }

  /* The words for one figure, or "" when there is nothing to read yet. */
  function reading(rules, qualifier, numbers) {
    if (!qualifier || !(qualifier in rules.qualifiers)) return "";
    var rule = rules.qualifiers[qualifier];
    if (rule === null) return rules.phrases.none;
    if (rule.number && numbers.value === null) return rules.missing.number;
    if (rule.upper && numbers.upper === null) return rules.missing.upper;
    var low = end(rule.low, numbers);
    if (rule.high === null) return rules.prefix + " " + rules.phrases.open.replace("{low}", say(low));
    var high = end(rule.high, numbers);
    var words = low === high
      ? rules.phrases.exact.replace("{low}", say(low))
      : rules.phrases.range.replace("{low}", say(low)).replace("{high}", say(high));
    return rules.prefix + " " + words;
  }

  /* The boxes of one figure in one inline form: id_reports-0-killed_qualifier, …-killed, …-killed_upper. */
  function update(rules, output) {
    var form = output.closest(".inline-related");
    if (!form) return;
    var figure = output.getAttribute("data-figure");
    var qualifier = form.querySelector("select[name$='-" + figure + "_qualifier']");
    if (!qualifier) return;
    output.textContent = reading(rules, qualifier.value, {
      value: wholeNumber(form.querySelector("input[name$='-" + figure + "']")),
      upper: wholeNumber(form.querySelector("input[name$='-" + figure + "_upper']"))
    });
  }

  function updateAll(rules) {
    document.querySelectorAll("output.figure-reading").forEach(function (output) {
      update(rules, output);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var rules = readRules();
    if (!rules) return;
    updateAll(rules);
    // One listener for every row, also those added with "Add another".
    ["input", "change"].forEach(function (type) {
      document.addEventListener(type, function (event) {
        var form = event.target.closest && event.target.closest(".inline-related");
        if (!form) return;
        form.querySelectorAll("output.figure-reading").forEach(function (output) {
          update(rules, output);
        });
      });
    });
    document.addEventListener("formset:added", function () { updateAll(rules); });
  });
})();
