/* Chapter 3's kernel-free explorer (book/03_initialization.ipynb, section 5).

The notebook emits, in one cell output, an empty <div class="mbm-init-explorer">
holding its numbers as JSON (<script type="application/json" class="mbm-init-data">:
explorer_data(), int16 codes packed in base64). This script, which
book/_ext/init_explorer.py adds to the pages that have such a div, builds the
controls, the chart and the aria-live readout in the page's language
(document.documentElement.lang, STRINGS below) and redraws them on every change.
fmt, trend, gain labels and the English readout are written exactly as the
notebook's fmt, trend, gain_label and readout_text (tests/test_explorer.py compares
them in Chromium, tests/test_lint.py checks this file with node). */
(function () {
  "use strict";

  // Every word the explorer shows. Scheme and activation names other than
  // "linear", "calculate_gain" and numbers are code and stay as they are.
  var STRINGS = {
    en: {
      scheme: "scheme", activation: "activation", depth: "depth", width: "width",
      gain: "gain", activationNames: {linear: "linear"},
      legendActivation: "activation RMS (forward)",
      legendGradient: "gradient RMS (backward)",
      chart: "RMS per layer of the activations (solid) and the gradients (dashed), " +
        "and saturated units",
      layerAxis: "layer",
      saturationNone: "saturated units: none (linear and ReLU do not saturate)",
      saturationTitle: "saturated units per layer (bar height 0 to 100%)",
      recommended: ", calculate_gain",
      overflow: "overflow (inf)", zero: "zero throughout", fromZero: "grow from 0",
      grow: function (r) { return "grow ×" + r; },
      shrink: function (r) { return "shrink ×" + r; },
      hold: function (r) { return "hold (×" + r + ")"; },
      // r: settings and figures as text; see readout() below
      readout: function (r) {
        var last = "layer " + r.depth + " ";
        var t = r.scheme + ", " + r.activation + ", gain " + r.gain + ", depth " +
          r.depth + ", width " + r.width + ". Activation RMS: layer 1 " + r.a1 +
          ", " + last + r.aD + ". Gradient RMS: " + last + r.gD + ", layer 1 " +
          r.g1 + ". ";
        if (r.s1 !== null) {
          t += "Saturated units: layer 1 " + r.s1 + ", " + last + r.sD + ". ";
        }
        return t + "Forward, layer 1 to " + r.depth + ": activations " + r.forward +
          ". Backward, layer " + r.depth + " to 1: gradients " + r.backward + ".";
      }
    },
    zh: {
      scheme: "初始化方案", activation: "激活函数", depth: "深度", width: "宽度",
      gain: "增益", activationNames: {linear: "线性"},
      legendActivation: "激活值均方根（前向传播）",
      legendGradient: "梯度均方根（反向传播）",
      chart: "各层激活值（实线）和梯度（虚线）的均方根，以及饱和单元的比例",
      layerAxis: "层",
      saturationNone: "饱和单元：无（线性激活和 relu 不会饱和）",
      saturationTitle: "每层饱和单元的比例（柱高 0 到 100%）",
      recommended: "，calculate_gain",
      overflow: "溢出（inf）", zero: "始终为零", fromZero: "从 0 开始增长",
      grow: function (r) { return "增长 ×" + r; },
      shrink: function (r) { return "缩小 ×" + r; },
      hold: function (r) { return "保持（×" + r + "）"; },
      // the same figures in the same order as the English sentence
      readout: function (r) {
        var last = "第 " + r.depth + " 层 ";
        var t = r.scheme + "，" + r.activation + "，增益 " + r.gain + "，深度 " +
          r.depth + "，宽度 " + r.width + "。激活值均方根：第 1 层 " + r.a1 + "，" +
          last + r.aD + "。梯度均方根：" + last + r.gD + "，第 1 层 " + r.g1 + "。";
        if (r.s1 !== null) {
          t += "饱和单元：第 1 层 " + r.s1 + "，" + last + r.sD + "。";
        }
        return t + "前向传播，第 1 层到第 " + r.depth + " 层：激活值" + r.forward +
          "。反向传播，第 " + r.depth + " 层到第 1 层：梯度" + r.backward + "。";
      }
    }
  };

  function strings(lang) {  // "zh-CN", "zh_CN", "zh" -> zh; anything else -> en
    var code = String(lang || "en").toLowerCase().split(/[-_]/)[0];
    return STRINGS[code] || STRINGS.en;
  }

  // --- numbers as text

  function fmt(v) {  // as fmt() in Python
    if (v === 0 || !isFinite(v)) return v === 0 ? "0" : "inf";
    if (v >= 0.01 && v < 100) {
      return v.toFixed(Math.max(0, 1 - Math.floor(Math.log10(v))));
    }
    var p = v.toExponential(1).split("e");
    return p[0] + "e" + parseInt(p[1], 10);
  }

  function trend(T, end, start) {  // as trend() in Python
    if (!isFinite(end) || !isFinite(start)) return T.overflow;
    if (start === 0) return end === 0 ? T.zero : T.fromZero;
    var r = end / start;
    if (r > 2) return T.grow(fmt(r));
    return r < 0.5 ? T.shrink(fmt(r)) : T.hold(fmt(r));
  }

  function gainLabel(g, named) {  // as gain_label() in Python
    var t = String(Number(g.toPrecision(3)));
    for (var n in named) {
      if (Math.abs(named[n] / g - 1) < 1e-9) t += " (" + n + ")";
    }
    return t;
  }

  function percent(s) { return Math.floor(100 * s + 0.5) + "%"; }

  function readout(T, data, s, st) {  // as readout_text() in Python
    var a = st.activation, g = st.gradient, d = s.depth, sat = st.saturated;
    return T.readout({
      scheme: s.scheme, activation: T.activationNames[s.act] || s.act,
      gain: gainLabel(data.gains[s.gi], data.named), depth: d, width: s.width,
      a1: fmt(a[0]), aD: fmt(a[d - 1]), gD: fmt(g[d - 1]), g1: fmt(g[0]),
      s1: sat ? percent(sat[0]) : null, sD: sat ? percent(sat[d - 1]) : null,
      forward: trend(T, a[d - 1], a[0]), backward: trend(T, g[0], g[d - 1])
    });
  }

  // --- the stored figures

  function decode(packed) {
    var raw = atob(packed), codes = new Int16Array(raw.length / 2);
    for (var i = 0; i < codes.length; i++) {
      codes[i] = (raw.charCodeAt(2 * i) | raw.charCodeAt(2 * i + 1) << 8) << 16 >> 16;
    }
    return codes;
  }

  function lookup(data, codes, s) {  // the figures for settings s, as layer_stats
    var D = data.depths[data.depths.length - 1], block = data.blocks[s.key];
    var sat = data.saturating.indexOf(s.act) >= 0, fwd = sat ? 2 * D : D;
    var power = block[1] === "power", g = data.gains[s.gi];
    var at = block[0] + (power ? 0 : s.gi * (fwd + data.gradLength));
    var back = at + fwd + data.gradStart[s.depth];
    var out = {activation: [], gradient: [], saturated: sat ? [] : null};
    for (var l = 0; l < s.depth; l++) {  // power law: scale gain 1's figures
      var up = power ? Math.pow(g, l + 1) : 1;
      var down = power ? Math.pow(g, s.depth - 1 - l) : 1;
      out.activation.push(Math.pow(10, codes[at + l] / data.q) * up);
      out.gradient.push(Math.pow(10, codes[back + l] / data.q) * down);
      if (sat) out.saturated.push(codes[at + D + l] / data.satScale);
    }
    return out;
  }

  // --- the chart: a log axis, the two curves, the saturation strip

  var X0 = 46, X1 = 348, Y0 = 24, Y1 = 166, S0 = 208, SH = 18;

  function xpos(k, depth) { return X0 + (X1 - X0) * k / Math.max(1, depth - 1); }

  function ypos(e, ax) {
    e = Math.max(ax.lo, Math.min(ax.hi, e));
    return Y0 + (Y1 - Y0) * (ax.hi - e) / (ax.hi - ax.lo);
  }

  function path(values, ax) {
    return values.map(function (v, k) {
      return (k ? "L" : "M") + xpos(k, values.length).toFixed(1) + " " +
        ypos(Math.log10(v), ax).toFixed(1);
    }).join(" ");
  }

  function axis(st) {  // every value, and at least 1e-2 .. 1e2, in decades
    var logs = st.activation.concat(st.gradient).map(Math.log10).filter(isFinite);
    var lo = Math.min(-2, Math.floor(Math.min.apply(null, logs)));
    var hi = Math.max(2, Math.ceil(Math.max.apply(null, logs)));
    var step = [1, 2, 5, 10, 20].filter(function (s) { return (hi - lo) / s <= 6; })[0];
    return {lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step,
            step: step};
  }

  function escape(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function tag(name, attrs, text) {
    var s = "<" + name;
    for (var k in attrs) s += " " + k + '="' + escape(attrs[k]) + '"';
    return s + ">" + (text === undefined ? "" : escape(text)) + "</" + name + ">";
  }

  function drawAxes(T, ax, depth) {
    var out = "";
    for (var e = ax.lo; e <= ax.hi; e += ax.step) {
      var y = ypos(e, ax);
      out += tag("line", {x1: X0, x2: X1, y1: y, y2: y, stroke: e ? "#ddd" : "#999"}) +
        tag("text", {x: X0 - 4, y: y + 3, "text-anchor": "end"}, e ? "1e" + e : "1");
    }
    for (var k = 1; k <= depth; k++) {
      if (k === 1 || k % (depth <= 10 ? 1 : 5) === 0) {
        out += tag("text", {x: xpos(k - 1, depth), y: Y1 + 12,
                            "text-anchor": "middle"}, k);
      }
    }
    return out + tag("text", {x: (X0 + X1) / 2, y: Y1 + 25, "text-anchor": "middle"},
                     T.layerAxis);
  }

  function drawSaturation(T, st, depth) {
    if (!st.saturated) return tag("text", {x: X0, y: S0 - 4}, T.saturationNone);
    var w = Math.max(1.5, 0.7 * (X1 - X0) / Math.max(1, depth - 1));
    var out = tag("text", {x: X0, y: S0 - 4}, T.saturationTitle);
    st.saturated.forEach(function (s, k) {
      out += tag("rect", {x: (xpos(k, depth) - w / 2).toFixed(1), width: w.toFixed(1),
        y: (S0 + SH * (1 - s)).toFixed(1), height: (SH * s).toFixed(1),
        fill: "#c0392b"});
    });
    return out + tag("line", {x1: X0, x2: X1, y1: S0 + SH, y2: S0 + SH,
                              stroke: "#999"});
  }

  // --- the markup

  function select(cls, label, options, chosen, names) {
    var items = options.map(function (v) {
      return "<option value=\"" + escape(v) + "\"" + (v === chosen ? " selected" : "") +
        ">" + escape((names && names[v]) || v) + "</option>";
    }).join("");
    return "<label>" + escape(label) + " <select class=\"" + cls + "\">" + items +
      "</select></label>";
  }

  function markup(T, data, uid) {
    var marker = function (id, shape) {
      return "<marker id=\"" + uid + "-" + id + "\" markerWidth=\"4\" " +
        "markerHeight=\"4\" refX=\"2\" refY=\"2\">" + shape + "</marker>";
    };
    var ends = function (id) {
      return " marker-start=\"url(#" + uid + "-" + id + ")\" marker-mid=\"url(#" + uid +
        "-" + id + ")\" marker-end=\"url(#" + uid + "-" + id + ")\"";
    };
    return "<div style=\"display:flex;flex-wrap:wrap;gap:4px 14px\">" +
      select("mbm-scheme", T.scheme, data.schemes, "xavier_normal") +
      select("mbm-activation", T.activation, data.activations, "tanh",
             T.activationNames) +
      select("mbm-depth", T.depth, data.depths, 10) +
      select("mbm-width", T.width, data.widths, 128) + "</div>" +
      "<label style=\"display:flex;align-items:center;gap:8px;margin:6px 0\">" +
      escape(T.gain) + " <input type=\"range\" class=\"mbm-gain\" min=\"0\" max=\"" +
      (data.gains.length - 1) + "\" step=\"1\" value=\"" + data.gains.indexOf(1) +
      "\" style=\"flex:1;min-width:0\"><output class=\"mbm-gain-value\" " +
      "style=\"min-width:8.5em\"></output></label>" +
      "<svg viewBox=\"0 0 360 232\" width=\"100%\" role=\"img\" aria-label=\"" +
      escape(T.chart) + "\" style=\"display:block;max-width:520px;font-size:10.5px\">" +
      "<defs>" + marker("a", "<circle cx=\"2\" cy=\"2\" r=\"1.3\" fill=\"#1f77b4\"/>") +
      marker("g", "<rect x=\"0.8\" y=\"0.8\" width=\"2.4\" height=\"2.4\" " +
             "fill=\"#d95f02\"/>") + "</defs>" +
      "<path d=\"M4 8h18\" stroke=\"#1f77b4\" stroke-width=\"2\"/>" +
      tag("text", {x: 26, y: 12}, T.legendActivation) +
      "<path d=\"M182 8h18\" stroke=\"#d95f02\" stroke-width=\"2\" " +
      "stroke-dasharray=\"5 3\"/>" + tag("text", {x: 204, y: 12}, T.legendGradient) +
      "<g class=\"mbm-axes\"></g><path class=\"mbm-curve\" fill=\"none\" " +
      "stroke=\"#1f77b4\" stroke-width=\"2\"" + ends("a") + "/><path class=\"mbm-grad\" " +
      "fill=\"none\" stroke=\"#d95f02\" stroke-width=\"2\" stroke-dasharray=\"5 3\"" +
      ends("g") + "/><g class=\"mbm-sat\"></g></svg>" +
      "<p class=\"mbm-readout\" aria-live=\"polite\" style=\"font-size:0.9em\"></p>";
  }

  // --- one explorer

  function start(root, lang) {
    var source = root.querySelector("script.mbm-init-data");
    if (!source || root.mbmState) return;  // no numbers, or already running
    var T = strings(lang), data = JSON.parse(source.textContent);
    var codes = decode(data.packed);
    root.insertAdjacentHTML("beforeend", markup(T, data, root.id || "mbm-init"));
    function q(c) { return root.querySelector("." + c); }
    function settings() {  // what the controls are set to
      var s = {scheme: q("mbm-scheme").value, act: q("mbm-activation").value,
               depth: +q("mbm-depth").value, width: +q("mbm-width").value,
               gi: +q("mbm-gain").value};
      s.key = s.scheme + "|" + s.act + "|" + s.width;
      return s;
    }
    function update() {
      var s = settings(), st = lookup(data, codes, s), ax = axis(st);
      var g = data.gains[s.gi];
      q("mbm-axes").innerHTML = drawAxes(T, ax, s.depth);
      q("mbm-curve").setAttribute("d", path(st.activation, ax));
      q("mbm-grad").setAttribute("d", path(st.gradient, ax));
      q("mbm-sat").innerHTML = drawSaturation(T, st, s.depth);
      var rec = data.recommended[s.scheme + "|" + s.act];
      var label = gainLabel(g, data.named);
      if (rec && Math.abs(rec / g - 1) < 1e-9) label += T.recommended;
      q("mbm-gain-value").textContent = label;
      q("mbm-gain").setAttribute("aria-valuetext", label);
      q("mbm-readout").textContent = readout(T, data, s, st);
      root.mbmState = {settings: s, gain: g, gains: data.gains, stats: st, axis: ax};
    }
    root.addEventListener("input", update);
    root.addEventListener("change", update);
    update();
  }

  function startAll() {
    var lang = document.documentElement.lang;
    var roots = document.querySelectorAll(".mbm-init-explorer");
    for (var i = 0; i < roots.length; i++) start(roots[i], lang);
  }

  if (typeof document !== "undefined") {  // a page; a no-op where no explorer is
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", startAll);
    } else {
      startAll();
    }
  }
  if (typeof module !== "undefined" && module.exports) {  // node, for the tests
    module.exports = {STRINGS: STRINGS, strings: strings, fmt: fmt, trend: trend,
                      gainLabel: gainLabel, readout: readout, lookup: lookup,
                      decode: decode};
  }
})();
