//! Pictures of a composed app: components as nodes, wiring and granted
//! capabilities as edges, as Graphviz DOT, Mermaid, or a self-contained SVG.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::capability::Capability;
use crate::names::InterfaceName;
use crate::plan::{Plan, Satisfied};

/// The nodes and edges of an app, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    app: String,
    components: Vec<String>,
    exported: BTreeSet<String>,
    capabilities: Vec<Capability>,
    /// Importer, provider, label.
    wires: Vec<(String, String, String)>,
    /// Holder, capability.
    grants: Vec<(String, Capability)>,
}

impl Graph {
    /// The graph of `plan`. Each wire is labelled with the interface it
    /// carries; each grant is one edge per capability, however many
    /// interfaces it covers (the `io` streams shared by other grants are
    /// left out as noise).
    pub fn new(plan: &Plan) -> Self {
        let mut wires = Vec::new();
        let mut grants = Vec::new();
        let mut capabilities = BTreeSet::new();
        for c in &plan.components {
            for (import, satisfied) in &c.imports {
                match satisfied {
                    Satisfied::Wired { component, .. } => {
                        let label =
                            InterfaceName::parse(import).map_or(import.clone(), |n| n.base.clone());
                        wires.push((c.name.clone(), component.clone(), label));
                    }
                    Satisfied::Granted(Capability::Io) | Satisfied::Denied(_) => {}
                    Satisfied::Granted(capability) => {
                        if !grants.contains(&(c.name.clone(), *capability)) {
                            grants.push((c.name.clone(), *capability));
                        }
                        capabilities.insert(*capability);
                    }
                }
            }
        }
        Self {
            app: plan.app.clone(),
            components: plan.components.iter().map(|c| c.name.clone()).collect(),
            exported: plan.exports.iter().map(|(_, c)| c.clone()).collect(),
            capabilities: capabilities.into_iter().collect(),
            wires,
            grants,
        }
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = format!("digraph \"{}\" {{\n  rankdir=TB;\n", self.app);
        out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"sans-serif\"];\n");
        for c in &self.components {
            let fill = if self.exported.contains(c) {
                ", fillcolor=\"#d6e6ff\", penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(out, "  \"{c}\" [label=\"{c}\"{fill}];");
        }
        for cap in &self.capabilities {
            let _ = writeln!(
                out,
                "  \"cap:{cap}\" [label=\"{cap}\", shape=hexagon, fillcolor=\"#ffe9d6\"];"
            );
        }
        for (from, to, label) in &self.wires {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\" [label=\"{label}\"];");
        }
        for (holder, cap) in &self.grants {
            let _ = writeln!(
                out,
                "  \"{holder}\" -> \"cap:{cap}\" [style=dashed, color=\"#c0392b\", label=\"granted\"];"
            );
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let id = |name: &str| name.replace('-', "_");
        let mut out = String::from("flowchart TB\n");
        for c in &self.components {
            let _ = writeln!(out, "  {}[\"{c}\"]", id(c));
        }
        for cap in &self.capabilities {
            let _ = writeln!(out, "  cap_{cap}{{{{\"{cap}\"}}}}");
        }
        for (from, to, label) in &self.wires {
            let _ = writeln!(out, "  {} -->|\"{label}\"| {}", id(from), id(to));
        }
        for (holder, cap) in &self.grants {
            let _ = writeln!(out, "  {} -.->|granted| cap_{cap}", id(holder));
        }
        for c in &self.exported {
            let _ = writeln!(out, "  style {} stroke-width:3px", id(c));
        }
        out
    }

    /// A self-contained SVG: components in rows by how far they are from
    /// the app's exports, each wire an arrow labelled with its interface, and
    /// the capabilities granted to a component listed in red in its box.
    pub fn to_svg(&self) -> String {
        // Rank: exported components at 0, each provider below its importers.
        let mut rank: Vec<usize> = vec![0; self.components.len()];
        let index = |name: &str| self.components.iter().position(|c| c == name);
        for _ in 0..self.components.len() {
            for (from, to, _) in &self.wires {
                if let (Some(f), Some(t)) = (index(from), index(to)) {
                    rank[t] = rank[t].max(rank[f] + 1);
                }
            }
        }
        let granted = |component: &str| {
            self.grants
                .iter()
                .filter(|(holder, _)| holder == component)
                .map(|(_, capability)| capability.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let any_grant = !self.grants.is_empty();
        // Boxes fit the longest line they hold (about 7 px a character).
        let longest = self
            .components
            .iter()
            .map(|c| c.chars().count().max(granted(c).chars().count()))
            .max()
            .unwrap_or(0);
        let box_w = (longest as f64 * 7.0 + 24.0).max(130.0);
        let box_h = if any_grant { 54.0 } else { 40.0 };
        let (gap_x, gap_y, margin) = (40.0, 80.0, 30.0);
        let rows = rank.iter().max().map_or(0, |r| r + 1);
        let component_rows: Vec<Vec<&String>> = (0..rows)
            .map(|row| {
                self.components
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| rank[*i] == row)
                    .map(|(_, c)| c)
                    .collect()
            })
            .collect();
        let widest = component_rows
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(1)
            .max(1);
        let full = widest as f64 * (box_w + gap_x) - gap_x;
        let top = margin + 30.0;
        let mut layout: Vec<(&String, f64, f64)> = Vec::new();
        for (row, names) in component_rows.iter().enumerate() {
            // Each row is centred under the widest one.
            let used = names.len() as f64 * (box_w + gap_x) - gap_x;
            for (i, name) in names.iter().enumerate() {
                let x = margin + (full - used) / 2.0 + i as f64 * (box_w + gap_x);
                layout.push((name, x, top + row as f64 * (box_h + gap_y)));
            }
        }
        let width = (margin * 2.0 + full).max(420.0);
        let height = top + margin + rows as f64 * (box_h + gap_y) - gap_y;
        let find = |name: &str| {
            layout
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, x, y)| (*x, *y))
        };
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"13\">\n"
        );
        out.push_str("  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n");
        let _ = writeln!(
            out,
            "  <text x=\"{margin}\" y=\"{:.0}\" font-weight=\"bold\">app {}</text>",
            margin + 4.0,
            xml(&self.app)
        );
        if any_grant {
            let _ = writeln!(
                out,
                "  <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"#c0392b\" text-anchor=\"end\">red: the capabilities granted to a component</text>",
                width - margin,
                margin + 4.0
            );
        }
        for (from, to, label) in &self.wires {
            let (Some(a), Some(b)) = (find(from), find(to)) else {
                continue;
            };
            let (x1, y1) = (a.0 + box_w / 2.0, a.1 + box_h);
            let (x2, y2) = (b.0 + box_w / 2.0, b.1);
            let _ = writeln!(
                out,
                "  <line x1=\"{x1:.0}\" y1=\"{y1:.0}\" x2=\"{x2:.0}\" y2=\"{y2:.0}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>"
            );
            // The label sits near the provider, where edges fan apart.
            let short = label.rsplit('/').next().unwrap_or(label);
            let _ = writeln!(
                out,
                "  <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"#333\" text-anchor=\"middle\"><title>{}</title>{}</text>",
                x1 + (x2 - x1) * 0.7 + 4.0,
                y1 + (y2 - y1) * 0.7 - 4.0,
                xml(label),
                xml(short)
            );
        }
        for (name, x, y) in &layout {
            let (fill, stroke) = if self.exported.contains(*name) {
                ("#d6e6ff", "#2c5aa0")
            } else {
                ("#eef3fb", "#6b7a90")
            };
            let _ = writeln!(
                out,
                "  <rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{box_w:.0}\" height=\"{box_h:.0}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\"/>"
            );
            let grants = granted(name);
            let name_y = if grants.is_empty() {
                box_h / 2.0 + 4.0
            } else {
                22.0
            };
            let _ = writeln!(
                out,
                "  <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
                x + box_w / 2.0,
                y + name_y,
                xml(name)
            );
            if !grants.is_empty() {
                let _ = writeln!(
                    out,
                    "  <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"#c0392b\" text-anchor=\"middle\">{}</text>",
                    x + box_w / 2.0,
                    y + 41.0,
                    xml(&grants)
                );
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
