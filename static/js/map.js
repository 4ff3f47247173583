/* Casualty Tracker's maps, drawn with Leaflet and Leaflet.markercluster (static/vendor/, from
   `make vendor`). Each element with a data-map attribute becomes one map:
   - "incidents" (/map/): every incident of /api/incidents.geojson with the page's filters
     (data-geojson), following the answer's `next` pages; a marker sized by the highest figure,
     dashed and striped where sources differ, clustered where dense, with a popup;
   - "point": a small map of one incident's or place's point (data-latitude, data-longitude,
     data-zoom);
   - "picker" (the admin's incident form): a click on the map or a dragged marker fills the
     latitude and longitude boxes (data-latitude-input, data-longitude-input), and typing in them
     moves the marker. The boxes work without this script.
   What the maps need (tiles, the marker scale, words) is the page's #map-settings JSON, written by
   incidents/maps.py, so that the legend and the markers share one scale and the tiles are the
   ones the CSP allows. A file, not inline, because the CSP allows no inline script. No framework.
   Without tiles (offline, blocked) the markers still show on the map's plain background. */
(function () {
  "use strict";

  function readSettings() {
    var data = document.getElementById("map-settings");
    return data ? JSON.parse(data.textContent) : null;
  }

  /* "{count} incidents" with {count} = 12. */
  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? String(values[name]) : whole;
    });
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  /* Those who ask their system for less motion get maps that jump rather than glide. */
  var STILL = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function baseMap(container, settings, options) {
    var fallback = container.querySelector(".map-fallback");
    if (fallback) fallback.remove();
    var map = L.map(container, L.extend({
      zoomAnimation: !STILL, fadeAnimation: !STILL, markerZoomAnimation: !STILL
    }, options));
    L.tileLayer(settings.tiles.url, {
      attribution: settings.tiles.attribution,
      subdomains: settings.tiles.subdomains,
      maxZoom: 19
    }).addTo(map);
    return map;
  }

  /* The marker's radius: as incidents/maps.py marker_radius(). */
  function radius(highest, scale) {
    if (!highest) return scale.smallest;
    var grown = scale.smallest + scale.per_tenfold * Math.log10(highest + 1);
    return Math.min(scale.largest, Math.round(grown * 10) / 10);
  }

  /* 5 October 2023 in the page's language (Western digits on Arabic pages, as the site writes them). */
  function dayText(iso) {
    var locale = document.documentElement.lang === "ar" ? "ar-u-nu-latn" : "en-GB";
    var format = new Intl.DateTimeFormat(locale, {
      day: "numeric", month: "long", year: "numeric", timeZone: "UTC"
    });
    return format.format(new Date(iso + "T00:00:00Z"));
  }

  function timeElement(iso) {
    var time = element("time", "", dayText(iso));
    time.setAttribute("datetime", iso);
    return time;
  }

  /* An address of this site as a path: `next` is absolute, and a proxy that names the host
     otherwise must not send the map to another origin (the CSP allows only this one). */
  function onThisSite(address) {
    var url = new URL(address, window.location.href);
    return url.pathname + url.search;
  }

  /* Every page of a paged GeoJSON answer, one after the other. A 429 (too many requests) waits
     as long as the server says, then asks again. */
  function loadEveryPage(address, handlers) {
    function ask(next) {
      fetch(onThisSite(next), { headers: { Accept: "application/geo+json, application/json" } })
        .then(function (response) {
          if (response.status === 429) {
            var seconds = parseInt(response.headers.get("Retry-After"), 10);
            seconds = seconds >= 0 ? seconds : 30;
            handlers.paused(seconds);
            window.setTimeout(function () { ask(next); }, seconds * 1000);
            return null;
          }
          if (!response.ok) {
            // A filter the API cannot read (a 400) says which and why.
            return response.json().catch(function () { return {}; }).then(function (answer) {
              throw new Error(answer.detail || "HTTP " + response.status);
            });
          }
          return response.json();
        })
        .then(function (page) {
          if (page === null) return;
          handlers.page(page);
          if (page.next) ask(page.next);
          else handlers.done(page);
        })
        .catch(handlers.failed);
    }
    ask(address);
  }

  function incidentsMap(container, settings) {
    var words = settings.words;
    var status = document.getElementById("map-status");
    var map = baseMap(container, settings, { worldCopyJump: true }).setView([25, 20], 2);
    var cluster = L.markerClusterGroup({
      maxClusterRadius: 40,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      animate: !STILL,
      iconCreateFunction: clusterIcon
    });
    map.addLayer(cluster);

    function tell(text) {
      if (status) status.textContent = text;
    }

    function clusterIcon(group) {
      var count = group.getChildCount();
      var size = count < 10 ? 32 : count < 100 ? 40 : count < 1000 ? 48 : 56;
      var label = element("span");
      label.appendChild(element("span", "", String(count))).setAttribute("aria-hidden", "true");
      label.appendChild(element("span", "visually-hidden", say(words.cluster, { count: count })));
      return L.divIcon({ html: label, className: "incident-cluster", iconSize: [size, size] });
    }

    // The title in the page's language; the English one, marked, where there is none.
    function titleOf(properties) {
      return properties[settings.titleField] || properties.title;
    }

    function popup(properties, figures) {
      var box = element("div", "incident-popup");
      var title = box.appendChild(element("a", "incident-popup-title", titleOf(properties)));
      title.href = settings.incidentPages + encodeURIComponent(properties.slug) + "/";
      if (!properties[settings.titleField]) {
        title.setAttribute("lang", "en");
        title.setAttribute("dir", "ltr");
        if (settings.titleField !== "title") {
          box.appendChild(element("span", "in-english", " (" + settings.inEnglish + ")"));
        }
      }
      box.appendChild(element("p", "incident-popup-range", figures));
      var when = box.appendChild(element("p", "incident-popup-date"));
      when.appendChild(timeElement(properties.start_date));
      if (properties.end_date && properties.end_date !== properties.start_date) {
        when.appendChild(document.createTextNode(" – "));
        when.appendChild(timeElement(properties.end_date));
      }
      return box;
    }

    function marker(feature) {
      var properties = feature.properties;
      var where = feature.geometry.coordinates; // GeoJSON: longitude first
      var known = properties.killed_highest !== null;
      var figures = known ? say(words.killed, { range: properties.killed }) : words.tollUnknown;
      if (properties.disputed) figures += " · " + words.differ;
      var size = Math.round(2 * radius(properties.killed_highest, settings.markers));
      var classes = "incident-marker";
      if (properties.disputed) classes += " incident-marker-disputed";
      if (!known) classes += " incident-marker-unknown";
      var made = L.marker([where[1], where[0]], {
        icon: L.divIcon({ className: classes, iconSize: [size, size] }),
        title: titleOf(properties) + ": " + figures,
        keyboard: true,
        riseOnHover: true,
        // Larger markers beneath smaller ones, so that every one can be selected.
        zIndexOffset: -100 * size
      });
      made.bindPopup(function () { return popup(properties, figures); });
      return made;
    }

    container.setAttribute("data-state", "loading");
    container.setAttribute("aria-busy", "true");
    var bounds = L.latLngBounds([]);
    var loaded = 0;
    loadEveryPage(container.getAttribute("data-geojson"), {
      page: function (page) {
        var markers = page.features.filter(function (feature) {
          return feature.geometry && feature.geometry.type === "Point";
        }).map(marker);
        markers.forEach(function (made) { bounds.extend(made.getLatLng()); });
        cluster.addLayers(markers);
        loaded += page.features.length;
        tell(say(words.loading, { loaded: loaded, count: page.count }));
      },
      paused: function (seconds) {
        tell(say(words.paused, { seconds: seconds }));
      },
      done: function (page) {
        var shown = cluster.getLayers().length;
        function ready() {
          if (page.count === 0) tell(words.none);
          else tell(say(words.shown, { shown: shown, count: page.count }) + (shown < page.count ? " " + words.unplaced : ""));
          container.setAttribute("data-markers", String(shown));
          container.setAttribute("data-state", "ready");
          container.removeAttribute("aria-busy");
        }
        if (!bounds.isValid()) return ready();
        map.once("moveend", ready); // once the map shows them all (Leaflet fires it even for no move)
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 10 });
      },
      failed: function (error) {
        tell(say(words.failed, { reason: error.message }));
        container.setAttribute("data-state", "failed");
        container.removeAttribute("aria-busy");
      }
    });
  }

  function pointMap(container, settings) {
    var point = [parseFloat(container.getAttribute("data-latitude")), parseFloat(container.getAttribute("data-longitude"))];
    // A small map inside a page that scrolls: the wheel scrolls the page, the buttons zoom.
    var map = baseMap(container, settings, { scrollWheelZoom: false });
    map.setView(point, parseInt(container.getAttribute("data-zoom"), 10));
    L.circleMarker(point, { className: "point-marker", radius: 8, interactive: false }).addTo(map);
  }

  /* A number typed in a box, or null. The boxes are number inputs: a dot for decimals. */
  function coordinate(box, limit) {
    var text = box.value.trim();
    if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return null;
    var value = parseFloat(text);
    return Math.abs(value) <= limit ? value : null;
  }

  function pickerMap(container, settings) {
    var latitudeBox = document.getElementById(container.getAttribute("data-latitude-input"));
    var longitudeBox = document.getElementById(container.getAttribute("data-longitude-input"));
    if (!latitudeBox || !longitudeBox) {
      container.remove(); // a form only to look at: the coordinates are shown as text
      return;
    }
    var map = baseMap(container, settings, { scrollWheelZoom: false });
    var pin = null;

    function typed() {
      var latitude = coordinate(latitudeBox, 90), longitude = coordinate(longitudeBox, 180);
      return latitude === null || longitude === null ? null : L.latLng(latitude, longitude);
    }

    function put(where) {
      if (pin) {
        pin.setLatLng(where);
        return;
      }
      pin = L.marker(where, {
        icon: L.divIcon({ className: "picker-marker", iconSize: [22, 22] }),
        draggable: true,
        keyboard: false, // the boxes are the keyboard's way in
        title: settings.words.picker
      }).addTo(map);
      pin.on("dragend", function () { fill(pin.getLatLng()); });
    }

    function fill(where) {
      where = where.wrap(); // a click east of 180° on a world map that repeats
      latitudeBox.value = where.lat.toFixed(6);
      longitudeBox.value = where.lng.toFixed(6);
      put(where);
      [latitudeBox, longitudeBox].forEach(function (box) {
        box.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }

    map.on("click", function (event) { fill(event.latlng); });
    [latitudeBox, longitudeBox].forEach(function (box) {
      box.addEventListener("input", function () {
        var where = typed();
        if (where) {
          put(where);
          map.panTo(where);
        } else if (pin && !latitudeBox.value.trim() && !longitudeBox.value.trim()) {
          map.removeLayer(pin);
          pin = null;
        }
      });
    });

    var start = typed();
    var placeLatitude = container.getAttribute("data-place-latitude");
    if (start) {
      map.setView(start, 12);
      put(start);
    } else if (placeLatitude) {
      // Not yet placed more precisely than its place: start there.
      map.setView([parseFloat(placeLatitude), parseFloat(container.getAttribute("data-place-longitude"))], 10);
    } else {
      map.setView([25, 20], 2);
    }
  }

  var KINDS = { incidents: incidentsMap, point: pointMap, picker: pickerMap };

  function start() {
    var settings = readSettings();
    if (!settings || !window.L) return;
    document.querySelectorAll("[data-map]").forEach(function (container) {
      var draw = KINDS[container.getAttribute("data-map")];
      if (draw) draw(container, settings);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
