/*{
  "ISFVSN": "2",
  "DESCRIPTION": "An imported image, shown as it is",
  "IMPORTED": {"pic": {"PATH": "pic.png"}}
}*/

void main() {
    gl_FragColor = IMG_THIS_PIXEL(pic);
}
