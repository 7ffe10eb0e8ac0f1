// KafkaJS against twisted-kafka: admin, idempotent gzip produce, group consume.
// Usage: node roundtrip.js HOST:PORT TOPIC; prints one JSON line with what it saw.
const { Kafka, logLevel, CompressionTypes } = require('kafkajs')

const [broker, topic] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'kafkajs-check', brokers: [broker], logLevel: logLevel.ERROR })

async function main () {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })
  const topics = await admin.listTopics()
  await admin.disconnect()

  const producer = kafka.producer({ idempotent: true, createPartitioner: require('kafkajs').Partitioners.DefaultPartitioner })
  await producer.connect()
  const sent = []
  for (let i = 0; i < 5; i++) {
    const messages = Array.from({ length: 100 }, (_, j) => ({ key: `k${j}`, value: `v${i}-${j}`, headers: { h: `x${i}` } }))
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages })
    sent.push(...messages.map(m => m.value))
  }
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: `${topic}-group` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const received = []
  await new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message.value.toString())
        if (received.length === sent.length) resolve()
      }
    })
    setTimeout(resolve, 30000)
  })
  await consumer.disconnect()
  console.log(JSON.stringify({ topics, sent: sent.sort(), received: received.sort() }))
}

main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1) })
