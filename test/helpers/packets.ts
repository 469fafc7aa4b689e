import type { MqttClient, Packet } from 'mqtt';

/** Resolves at the next packet of `cmd` the mqtt.js client sends (`packetsend`) or receives (`packetreceive`). */
export const nextPacket = (client: MqttClient, cmd: Packet['cmd'], direction: 'packetsend' | 'packetreceive'): Promise<void> =>
  new Promise((resolve) => {
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== cmd) return;
      client.removeListener(direction, onPacket);
      resolve();
    };
    client.on(direction, onPacket);
  });
