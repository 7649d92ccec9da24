/*{
  "DESCRIPTION": "The piece's speed: include it where the hyphae move or the pulses travel, and multiply by speed.",
  "INPUTS": [
    {"NAME": "speed", "PARAM": "render.speed", "TYPE": "float", "MIN": 0.0, "MAX": 3.0, "DEFAULT": 1.0, "LABEL": "Speed", "UNIT": "x", "DESCRIPTION": "how fast the hyphae move and pulses travel", "SMOOTHING": 0.5}
  ]
}*/
