//! The one writer of metric blocks. Each metric of a batch goes into its open block; a block
//! that reaches [`CHUNK_POINTS`] is saved and a new one begins, and every block the batch
//! touched is saved at its end. What a save is (which statement, prepared how, with or
//! without a writer's id) is the [`BlockSink`]'s: a local writer's, kept open across its
//! batches, or a server's, which reopens a remote writer's newest block for each batch.

use crate::chunk::{ChunkColumns, CHUNK_POINTS};
use crate::store::WriteBatch;

/// Where blocks are saved: a store's transaction.
pub(crate) trait BlockSink {
    type Error;

    /// Saves a new block of metric `name`; its id.
    fn insert(&mut self, name: &str, block: &ChunkColumns) -> Result<i64, Self::Error>;

    /// Saves block `id` again with the points it holds now.
    fn update(&mut self, id: i64, block: &ChunkColumns) -> Result<(), Self::Error>;
}

/// The block of one metric that takes the next points: its id once saved, and its points.
#[derive(Debug, Default)]
struct OpenBlock {
    id: Option<i64>,
    columns: ChunkColumns,
    /// Holds points that are not saved yet.
    dirty: bool,
}

impl OpenBlock {
    fn save<S: BlockSink>(&mut self, sink: &mut S, name: &str) -> Result<(), S::Error> {
        match self.id {
            Some(id) => sink.update(id, &self.columns)?,
            None => self.id = Some(sink.insert(name, &self.columns)?),
        }
        self.dirty = false;
        Ok(())
    }
}

/// The open blocks of a writer, by the batch's metric name ids.
#[derive(Debug, Default)]
pub(crate) struct OpenBlocks {
    blocks: Vec<OpenBlock>,
}

impl OpenBlocks {
    /// Continues block `id`, which holds `columns`, for metric `name_id`.
    pub(crate) fn reopen(&mut self, name_id: u32, id: i64, columns: ChunkColumns) {
        *self.block(name_id) = OpenBlock {
            id: Some(id),
            columns,
            dirty: false,
        };
    }

    /// Forgets every open block: after a transaction that rolled back, the next points go
    /// into new blocks, so that nothing is written twice.
    pub(crate) fn clear(&mut self) {
        self.blocks.clear();
    }

    fn block(&mut self, name_id: u32) -> &mut OpenBlock {
        let index = name_id as usize;
        if self.blocks.len() <= index {
            self.blocks.resize_with(index + 1, OpenBlock::default);
        }
        &mut self.blocks[index]
    }

    /// Adds the batch's points to the open blocks and saves every block it filled or touched.
    pub(crate) fn write<S: BlockSink>(
        &mut self,
        sink: &mut S,
        batch: &WriteBatch<'_>,
    ) -> Result<(), S::Error> {
        let mut touched: Vec<u32> = Vec::new();
        for record in batch.points {
            let name = &batch.names[record.name_id as usize];
            let block = self.block(record.name_id);
            block.columns.push(&record.point);
            if !block.dirty {
                block.dirty = true;
                touched.push(record.name_id);
            }
            if block.columns.len() == CHUNK_POINTS {
                block.save(sink, name)?;
                *block = OpenBlock::default();
            }
        }
        for name_id in touched {
            let block = self.block(name_id);
            if block.dirty {
                block.save(sink, &batch.names[name_id as usize])?;
            }
        }
        Ok(())
    }
}
