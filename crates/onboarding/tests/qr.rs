//! QR images decode to deployment links.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::qr;
use image::ImageFormat;
use sidetone_onboarding::decode_qr_image;

const LINK: &str = "sidetone://provision?server=pbx.example.com&token=7Q2M0D4K9VXR1H8A";

#[test]
fn png_and_jpeg_decode_to_the_link() {
    let mut image = qr::canvas(600, 600);
    qr::draw(&mut image, LINK, 20, 20);
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let link = decode_qr_image(&qr::encode(&image, format)).unwrap();
        assert_eq!(link.deployment.display_host(), "pbx.example.com");
        assert_eq!(link.deployment.token.unwrap().expose(), "7Q2M0D4K9VXR1H8A");
    }
}
