//! Rendering end to end: PNG and SVG outputs decode, carry their text, and handle odd data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::io::Cursor;
use std::path::Path;

use opsml_plot::{
    render_png, render_svg, render_svg_fragment, suggested_size, write_chart, Panel, PlotError,
    Series,
};

/// Decode a PNG and return its size, checking it is 8-bit RGB.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let frame = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    // Not a blank canvas: something other than white was drawn.
    assert!(buf[..frame.buffer_size()].iter().any(|&b| b < 128));
    (frame.width, frame.height)
}

/// Every `<text>` element's content, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_owned())
        .collect()
}

#[test]
fn png_decodes_to_the_requested_size() {
    let panels = common::panels(3, 2, 500);
    for (w, h) in [(800, 600), (1201, 757), (320, 240)] {
        let bytes = render_png(&panels, w, h).unwrap();
        assert_eq!(png_size(&bytes), (w, h));
    }
}

#[test]
fn svg_is_xml_with_titles_and_labels_as_text() {
    let mut panels = common::panels(3, 3, 300);
    panels[1].series[2].label = "tricky <label> & \"quotes\"".to_owned();
    let (w, h) = suggested_size(panels.len());
    let svg = render_svg(&panels, w, h).unwrap();
    let texts = svg_texts(&svg);
    for panel in &panels {
        assert!(
            texts.contains(&panel.title),
            "missing title {}",
            panel.title
        );
        for series in &panel.series {
            assert!(
                texts.contains(&series.label),
                "missing label {}",
                series.label
            );
        }
    }
    assert!(texts.contains(&"step".to_owned()), "missing x axis label");
}

#[test]
fn nan_and_infinite_gaps_render() {
    let (steps, mut values) = common::curve(1_000, 0.0);
    for v in &mut values[200..260] {
        *v = f64::NAN;
    }
    values[500] = f64::INFINITY;
    values[501] = f64::NEG_INFINITY;
    // A lone point between two gaps is drawn as a dot.
    values[700] = f64::NAN;
    values[702] = f64::NAN;
    let panels = [Panel::new(
        "gappy",
        "step",
        vec![
            Series::new("with-gaps", steps.clone(), values),
            Series::new("all-nan", steps, vec![f64::NAN; 1_000]),
        ],
    )];
    assert_eq!(
        png_size(&render_png(&panels, 640, 400).unwrap()),
        (640, 400)
    );
    let texts = svg_texts(&render_svg(&panels, 640, 400).unwrap());
    assert!(texts.contains(&"with-gaps".to_owned()));
    // A series with nothing to draw still has its legend entry.
    assert!(texts.contains(&"all-nan".to_owned()));
}

#[test]
fn panels_without_data_say_so() {
    let panels = [
        Panel::new("empty", "step", vec![]),
        Panel::new(
            "only-nan",
            "step",
            vec![Series::new("a", vec![0.0], vec![f64::NAN])],
        ),
        Panel::new("zero-length", "", vec![Series::new("b", vec![], vec![])]),
        common::panels(1, 1, 10).remove(0),
    ];
    let texts = svg_texts(&render_svg(&panels, 800, 600).unwrap());
    assert_eq!(texts.iter().filter(|t| *t == "no data").count(), 3);
    for title in ["empty", "only-nan", "zero-length", "metric-0"] {
        assert!(texts.contains(&title.to_owned()), "missing {title}");
    }
    assert_eq!(
        png_size(&render_png(&panels, 800, 600).unwrap()),
        (800, 600)
    );
}

/// Run `f` on its own thread and fail (instead of hanging the suite) if it takes over a minute.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_mins(1))
        .expect("rendering did not finish within a minute")
}

#[test]
fn single_points_flat_lines_and_extreme_ranges_render() {
    let flat = |title: &str, values: Vec<f64>| {
        let steps = (0..values.len()).map(|i| i as f64).collect();
        Panel::new(title, "step", vec![Series::new("s", steps, values)])
    };
    let panels = vec![
        Panel::new("one", "step", vec![Series::new("a", vec![3.0], vec![0.5])]),
        flat("zero", vec![0.0, 0.0]),
        flat("huge", vec![-f64::MAX, f64::MAX, 0.0]),
        flat("near-max", vec![0.9 * f64::MAX, f64::MAX]),
        flat("ulps-apart", vec![1e20, 1e20 + 16_384.0, 1e20]),
        flat("tiny", vec![5e-324, 0.0, 1e-310]),
        Panel::new(
            "huge-steps",
            "step",
            vec![Series::new("b", vec![-f64::MAX, f64::MAX], vec![1.0, 2.0])],
        ),
    ];
    let (w, h) = suggested_size(panels.len());
    let svg_panels = panels.clone();
    let texts = svg_texts(&within_a_minute(move || {
        render_svg(&svg_panels, w, h).unwrap()
    }));
    assert!(texts.contains(&"ulps-apart".to_owned()));
    let png = within_a_minute(move || render_png(&panels, w, h).unwrap());
    assert_eq!(png_size(&png), (w, h));
}

#[test]
fn invalid_input_is_a_clear_error() {
    assert!(matches!(
        render_svg(&[], 800, 600),
        Err(PlotError::NoPanels)
    ));
    let panels = common::panels(20, 1, 10);
    let err = render_png(&panels, 800, 600).unwrap_err();
    assert!(matches!(err, PlotError::InvalidSize { .. }), "{err}");
    assert!(err.to_string().contains("800x600"), "{err}");
    assert!(matches!(
        render_png(&panels[..1], 0, 600),
        Err(PlotError::InvalidSize { .. })
    ));
    assert!(matches!(
        render_svg(&panels[..1], 100_000, 600),
        Err(PlotError::InvalidSize { .. })
    ));

    let bad = [Panel::new(
        "loss",
        "step",
        vec![Series::new("run-9", vec![0.0, 1.0], vec![1.0])],
    )];
    let err = render_svg(&bad, 800, 600).unwrap_err();
    assert!(matches!(
        err,
        PlotError::LengthMismatch {
            steps: 2,
            values: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("run-9"), "{err}");
}

#[test]
fn fragment_is_inline_and_self_contained() {
    let panels = common::panels(2, 2, 200);
    let fragment = render_svg_fragment(&panels, 1200, 400, "Metrics <run-1>").unwrap();
    assert!(fragment.starts_with("<svg "), "{}", &fragment[..40]);
    assert!(!fragment.contains("<?xml"));
    let doc = roxmltree::Document::parse(&fragment).unwrap();
    let svg = doc.root_element();
    assert_eq!(svg.attribute("viewBox"), Some("0 0 1200 400"));
    assert_eq!(svg.attribute("aria-label"), Some("Metrics <run-1>"));
    assert_eq!(svg.attribute("width"), None);
    // Nothing is fetched from elsewhere: no links, images, stylesheets or external fonts.
    for needle in ["href", "<image", "url(", "@import", "@font-face", "<script"] {
        assert!(!fragment.contains(needle), "fragment contains {needle}");
    }
    // The only URL is the SVG namespace name.
    assert_eq!(fragment.matches("http").count(), 1);

    // Two fragments embed side by side in one HTML page.
    let html = format!("<!doctype html><html><body>{fragment}{fragment}</body></html>");
    assert_eq!(html.matches("<svg ").count(), 2);
}

#[test]
fn write_chart_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let panels = common::panels(2, 2, 100);

    let png_path = dir.path().join("metrics.PNG");
    write_chart(&png_path, &panels, 800, 300).unwrap();
    assert_eq!(png_size(&std::fs::read(&png_path).unwrap()), (800, 300));

    let svg_path = dir.path().join("metrics.svg");
    write_chart(&svg_path, &panels, 800, 300).unwrap();
    svg_texts(&std::fs::read_to_string(&svg_path).unwrap());

    for name in ["metrics.jpg", "metrics"] {
        let path = dir.path().join(name);
        let err = write_chart(&path, &panels, 800, 300).unwrap_err();
        assert!(matches!(err, PlotError::UnsupportedFormat { .. }));
        assert!(err.to_string().contains(name), "{err}");
        assert!(!path.exists());
    }

    let missing = Path::new("/nonexistent-dir-for-opsml-plot/metrics.svg");
    let err = write_chart(missing, &panels, 800, 300).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }));
    assert!(
        err.to_string().contains("nonexistent-dir-for-opsml-plot"),
        "{err}"
    );
}
